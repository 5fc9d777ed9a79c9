"""Charts for briefings: PNG files beside the report, embedded by the DOCX writer.

Matplotlib's object API with the Agg canvas: no pyplot global state, no display needed, safe in
worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def horizontal_bars(path: Path, labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
                    colors: Sequence[str] | None = None, marks: Sequence[tuple[float, str]] = (),
                    xmax: float | None = None) -> Path:
    """A horizontal bar chart, first label on top; `marks` draws labelled vertical reference lines.

    Written atomically (a temp file, then rename), so a report never embeds half a PNG.
    """
    height = max(2.5, 0.28 * len(labels) + 1.2)
    figure = Figure(figsize=(7.5, height), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=list(colors) if colors else "#4C72B0")
    axes.set_yticks(positions, labels=list(labels), fontsize=8)
    for x, text in marks:
        axes.axvline(x, color="#888888", linestyle="--", linewidth=0.8)
        axes.text(x, len(labels) - 0.4, text, fontsize=7, color="#555555", ha="center", va="bottom")
    if xmax is not None:
        axes.set_xlim(0, xmax)
    axes.set_xlabel(xlabel)
    axes.set_title(title, fontsize=10)
    return _save(figure, path)


def lines(path: Path, series: Sequence[tuple[str, Sequence[Any], Sequence[float]]], *, title: str, ylabel: str,
          marks: Sequence[tuple[object, str]] = (), dashed: Sequence[str] = (), xlabel: str = "",
          thousands: bool = False) -> Path:
    """A line chart of named (x, y) series; `marks` draws labelled vertical lines (e.g. the go-live day);
    series named in `dashed` are drawn dashed (projections, as against measurements). Atomic."""
    figure = Figure(figsize=(7.5, 3.0), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, xs, ys in series:
        axes.plot(list(xs), list(ys), marker="o", markersize=3, linewidth=1.4, label=name,
                  linestyle="--" if name in dashed else "-")
    for x, text in marks:
        axes.axvline(x, color="#888888", linestyle=":", linewidth=0.9)  # type: ignore[arg-type]
        axes.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, color="#555555",  # type: ignore[arg-type]
                      ha="left", va="top", xytext=(2, -2), textcoords="offset points")
    axes.set_ylabel(ylabel, fontsize=8)
    if xlabel:
        axes.set_xlabel(xlabel, fontsize=8)
    if thousands:
        from matplotlib.ticker import FuncFormatter

        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v / 1000:,.0f}k"))
    axes.tick_params(labelsize=7)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=7, loc="lower right")
    figure.autofmt_xdate() if series and hasattr(next(iter(series[0][1]), None), "year") else None
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    """Lay out and write the PNG atomically (a reader never sees half a chart)."""
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.png")
    figure.savefig(tmp, format="png")
    tmp.replace(path)
    return path
