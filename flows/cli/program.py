"""`golive status [--json]`: the program board (every location's phase, wave, next item and owner,
overdue items, last gate verdict, open rollback; each wave's progress and red/amber/green; every
override of a hard rule) read from the store. Exit 0; 2 for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from golive.tasks.foundation.errors import RunbookInvalid, UserInputError


def status(as_json: bool = typer.Option(False, "--json", help="Print the board as JSON"),
           org: Path | None = typer.Option(None, "--org", envvar="GOLIVE_ORG", help="Organization file")) -> None:
    """The program board: per location and per wave, with every override of a hard rule."""
    from rich.console import Console
    from rich.table import Table

    from golive.flows.engine.org import load_org
    from golive.tasks.program import board
    from golive.tasks.store import Store

    try:
        organization = load_org(org)
    except RunbookInvalid as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except UserInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    tz = getattr(organization, "timezone", None)
    today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date() if tz else datetime.now(UTC).date()
    store = Store.open()
    try:
        b = board.build(store, organization, today)
    finally:
        store.dispose()
    if as_json:
        typer.echo(json.dumps(b, default=str))
        return
    console = Console(highlight=False, soft_wrap=True)
    waves = Table("wave", "locations", "live", "progress", "last gate", "RAG", title=f"Waves (as of {b['as_of']})")
    for w in b["waves"]:
        waves.add_row(str(w["wave"]), str(w["locations"]), str(w["live"]), f"{w['progress_pct']}%",
                      (w["last_gate"] or "—").upper(), w["rag"].upper())
    console.print(waves)
    locs = Table("location", "phase", "wave", "next", "owner", "overdue", "last gate", "open rollback", title="Locations")
    for r in b["locations"]:
        locs.add_row(r["location"], r["phase"], str(r["wave"] or "—"), r["next"], r["owner"] or "—",
                     "; ".join(r["overdue"]) or "—", (r["last_gate"] or "—").upper(), r["open_rollback"] or "—")
    console.print(locs)
    for o in b["overrides"]:
        console.print(f"override #{o['id']} {o['guard']} ({o['subject']}): {o['detail']} — {o['name']} ({o['role']}), "
                      f"{o['at'][:10]}: {o['reason']}", markup=False)
