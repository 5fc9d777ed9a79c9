"""`golive imaging ...`: phantoms, series inspection, the AI analysis and the DICOM receiver.

Bad input (a damaged or incomplete series, a missing bundle) exits 2 with a message naming the file;
no traceback. Output carries no patient identifiers except `inspect`'s series UID, which the issue
asks for (a technical identifier, not a patient's).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from golive.tasks.foundation.errors import UserInputError

app = typer.Typer(no_args_is_help=True, help="CBCT imaging: phantoms, inspection, AI analysis, DICOM receiver.")


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def phantom(out_dir: Path, seed: int = 0, spacing: float = 1.0) -> dict:
    from golive.tasks.imaging.phantom import write_phantom

    series = write_phantom(out_dir, seed=seed, spacing=spacing)
    return {"series": str(series), "labels": str(Path(out_dir) / "labels.npy"),
            "truth": str(Path(out_dir) / "truth.json"), "slices": len(list(series.glob("*.dcm")))}


def inspect(directory: Path) -> dict:
    from golive.tasks.imaging.ingest import inspect as _inspect

    return _inspect(directory)


def analyze(directory: Path, out_dir: Path, bundle: Path | None = None, reference: Path | None = None) -> dict:
    from golive.tasks.imaging.analysis import analyze as _analyze

    return _analyze(directory, out_dir, bundle=bundle, reference=reference)


def receive(port: int, out_dir: Path, host: str = "0.0.0.0", ae_title: str = "GOLIVE") -> None:
    from golive.tasks.imaging.receiver import receive as _receive

    _receive(port, out_dir, host=host, ae_title=ae_title)


@app.command("phantom")
def phantom_cmd(out: Path = typer.Option(..., "--out", help="Folder for series/, labels.npy and truth.json"),
                seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same phantom)"),
                spacing: float = typer.Option(1.0, "--spacing", help="Voxel size in mm")) -> None:
    """Write a synthetic CBCT phantom as a DICOM series with its exact labels."""
    typer.echo(json.dumps(phantom(out, seed, spacing)))


@app.command("inspect")
def inspect_cmd(directory: Path = typer.Argument(..., help="Folder of one DICOM series"),
                as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Read a series and print its shape, spacing (column, row, slice) and HU range."""
    try:
        info = inspect(directory)
    except UserInputError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(info))
    else:
        for k, v in info.items():
            typer.echo(f"{k}: {v}")


@app.command("analyze")
def analyze_cmd(directory: Path = typer.Argument(..., help="Folder of one CBCT series"),
                out: Path = typer.Option(..., "--out", help="Output folder (SEG, SR, summary.json, previews)"),
                bundle: Path | None = typer.Option(None, "--bundle", help="MONAI bundle (default models/cbct-seg)"),
                reference: Path | None = typer.Option(None, "--reference", help="Reference DICOM SEG or labels .npy"),
                as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object")) -> None:
    """Segment, measure and write DICOM SEG + SR, a JSON summary and previews."""
    try:
        summary = analyze(directory, out, bundle, reference)
    except UserInputError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"{summary['series']}: {len(summary['sites'])} site(s), "
               f"{sum(c['found'] for c in summary['canals'])}/2 canal(s) found, "
               f"{summary['timings_s']['total']:.1f}s; files in {out}")
    for w in summary["warnings"]:
        typer.echo(f"warning: {w}")


@app.command("receive")
def receive_cmd(port: int = typer.Option(11112, "--port", help="TCP port to listen on"),
                out: Path = typer.Option(..., "--out", help="Folder for received instances"),
                host: str = typer.Option("0.0.0.0", "--host", help="Address to bind"),
                ae_title: str = typer.Option("GOLIVE", "--ae-title", help="Our AE title")) -> None:
    """Run a DICOM receiver (C-ECHO, C-STORE) until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    receive(port, out, host, ae_title)
