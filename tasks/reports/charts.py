"""Charts for briefings: PNG files beside the report, embedded by the DOCX writer.

Matplotlib's object API with the Agg canvas: no pyplot global state, no display needed, safe in
worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.png")
    figure.savefig(tmp, format="png")
    tmp.replace(path)
    return path
