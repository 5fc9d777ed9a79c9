"""`golive imaging ...`: phantoms, series inspection, the AI analysis and the DICOM receiver.

Bad input (a damaged or incomplete series, a missing bundle) exits 2 with a message naming the file;
no traceback. Output carries no patient identifiers except `inspect`'s series UID, which the issue
asks for (a technical identifier, not a patient's).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer

from golive.tasks.foundation.errors import GoliveError, UserInputError

app = typer.Typer(no_args_is_help=True, help="CBCT imaging: phantoms, inspection, AI analysis, DICOM receiver.")


def _fail(exc: Exception, as_json: bool = False) -> typer.Exit:
    """Exit 2 with one line on stderr; under --json also one JSON error object on stdout."""
    typer.echo(f"error: {exc}", err=True)
    if as_json:
        path = getattr(exc, "path", None)
        typer.echo(json.dumps({"error": {"reason": getattr(exc, "reason", type(exc).__name__), "message": str(exc),
                                         "file": None if path is None else str(path), "exit_code": 2}}))
    return typer.Exit(2)


def phantom(out_dir: Path, seed: int = 0, spacing: float = 1.0) -> dict:
    from golive.tasks.imaging.phantom import write_phantom

    series = write_phantom(out_dir, seed=seed, spacing=spacing)
    return {"series": str(series), "labels": str(Path(out_dir) / "labels.npy"),
            "truth": str(Path(out_dir) / "truth.json"), "slices": len(list(series.glob("*.dcm")))}


def inspect(directory: Path, series_uid: str | None = None) -> dict:
    from golive.tasks.imaging.ingest import inspect as _inspect

    return _inspect(directory, series_uid=series_uid)


def analyze(directory: Path, out_dir: Path, bundle: Path | None = None, reference: Path | None = None,
            series_uid: str | None = None) -> dict:
    from golive.tasks.imaging.analysis import analyze as _analyze

    return _analyze(directory, out_dir, bundle=bundle, reference=reference, series_uid=series_uid)


def receiver_policy(location: str | None, loopback: bool, org: Path | None, bind: str | None) -> Any:
    """The receiver's policy: the location's `dicom_receiver`, or the loopback-only default.

    There is no default address: a location's policy names one, `--loopback` is 127.0.0.1, and an
    explicit `--bind` may not be a wildcard (0.0.0.0, ::).
    """
    import dataclasses
    import ipaddress

    from golive.flows.engine.org import load_org
    from golive.tasks.imaging.policy import loopback_default, policy_for

    if bool(location) == loopback:
        raise UserInputError("give --location ID (its dicom_receiver policy in the organization file) or --loopback "
                             "(this host only, built-in policy); the receiver has no default address")
    policy = loopback_default() if loopback else policy_for(load_org(org), location)
    if policy is None:
        raise UserInputError(f"{location} has no dicom_receiver block in the organization file (bind, "
                             "allowed_calling_aes, allowed_networks); the receiver does not start without one")
    if bind is not None:
        try:
            if ipaddress.ip_address(bind).is_unspecified:
                raise UserInputError(f"--bind {bind} would listen on every interface; name one address")
        except ValueError:
            raise UserInputError(f"--bind {bind!r} is not an IP address") from None
        policy = dataclasses.replace(policy, bind=bind)
    return policy


def receive(out_dir: Path, policy: Any, port: int | None = None) -> None:
    """Run the receiver in the foreground until SIGINT or SIGTERM (a service manager's stop);
    refusals and associations go to the log and the audit log."""
    import signal
    import threading

    from golive.tasks.imaging.receiver import receive as _receive
    from golive.tasks.imaging.usage import StoreLedger
    from golive.tasks.store import Store

    store = Store.open()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    _receive(out_dir, policy, stop=stop, port=port, audit=store.audit.append, ledger=StoreLedger(store))


@app.command("phantom")
def phantom_cmd(out: Path = typer.Option(..., "--out", help="Folder for series/, labels.npy and truth.json"),
                seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same phantom)"),
                spacing: float = typer.Option(1.0, "--spacing", help="Voxel size in mm")) -> None:
    """Write a synthetic CBCT phantom as a DICOM series with its exact labels."""
    typer.echo(json.dumps(phantom(out, seed, spacing)))


@app.command("inspect")
def inspect_cmd(directory: Path = typer.Argument(..., help="Folder of one DICOM series"),
                series: str | None = typer.Option(None, "--series", help="Series Instance UID, when the folder holds several"),
                as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Read a series and print its shape, spacing (column, row, slice), HU range and lossy flag."""
    try:
        info = inspect(directory, series)
    except UserInputError as exc:
        raise _fail(exc, as_json) from None
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
                series: str | None = typer.Option(None, "--series", help="Series Instance UID, when the folder holds several"),
                as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object")) -> None:
    """Segment, measure and write DICOM SEG + SR, a JSON summary and previews."""
    try:
        summary = analyze(directory, out, bundle, reference, series)
    except UserInputError as exc:
        raise _fail(exc, as_json) from None
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"{summary['series']}: {len(summary['sites'])} site(s), "
               f"{sum(c['found'] for c in summary['canals'])}/2 canal(s) found, "
               f"{summary['timings_s']['total']:.1f}s; files in {out}")
    for w in summary["warnings"]:
        typer.echo(f"warning: {w}")


@app.command("receive")
def receive_cmd(out: Path = typer.Option(..., "--out", help="Folder for received instances"),
                location: str | None = typer.Option(None, "--location", help="Location whose dicom_receiver policy applies"),
                loopback: bool = typer.Option(False, "--loopback", help="This host only (127.0.0.1), built-in policy, no TLS"),
                org: Path | None = typer.Option(None, "--org", envvar="GOLIVE_ORG", help="Organization file"),
                bind: str | None = typer.Option(None, "--bind", help="Listen on this address instead of the policy's"),
                port: int | None = typer.Option(None, "--port", help="Plain DICOM port instead of the policy's")) -> None:
    """Run a DICOM receiver (C-ECHO, C-STORE) under a location's policy until interrupted.

    Who may send (AE titles, source networks), over what (TLS 1.2+, client certificates), what
    (SOP classes) and how much (per association, per day, disk floor) come from the location's
    `dicom_receiver` block. Refusals are logged here and audited (calling AE, source, reason).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("pynetdicom", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        policy = receiver_policy(location, loopback, org, bind)
        receive(out, policy, port)
    except UserInputError as exc:
        raise _fail(exc) from None
    except GoliveError as exc:  # cannot listen (address in use or not on this host), store unavailable
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
