"""`golive status [--json]` and `golive schedule sync`. The board (every location's phase, wave, next item and owner,
overdue items, last gate verdict, open rollback; each wave's progress and red/amber/green; every
override of a hard rule) read from the store. Exit 0; 2 for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
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
    for d in b["unconfirmed"]:
        console.print(f"UNCONFIRMED message {d['message_id']} ({d['channel']}) \"{d['subject']}\" to "
                      f"{', '.join(d['recipients'])} (run {d['run_key']}, step {d['step_key']}): it may not have "
                      "arrived; ask a recipient, re-send by hand if not.", markup=False)


schedule_app = typer.Typer(no_args_is_help=True, help="Prefect deployment schedules from the stored plan.")


def apply_schedules(wanted: list[Any]) -> list[dict[str, Any]]:
    """Create or update each plan schedule (by slug) on its deployment; say what was done."""
    from prefect import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import IntervalSchedule, RRuleSchedule
    from prefect.exceptions import ObjectNotFound

    done = []
    with get_client(sync_client=True) as client:
        for d in wanted:
            row = d.to_dict()
            try:
                dep = client.read_deployment_by_name(d.deployment)
            except ObjectNotFound:
                done.append({**row, "action": "missing deployment (run `prefect deploy --all` first)"})
                continue
            schedule: IntervalSchedule | RRuleSchedule
            if d.every is not None:
                anchor = datetime.combine(d.anchor, time(d.hour), tzinfo=ZoneInfo(d.timezone))
                schedule = IntervalSchedule(interval=d.every, anchor_date=anchor, timezone=d.timezone)
            else:  # a gate: business days (an interval schedule from an older sync is replaced in place)
                schedule = RRuleSchedule(rrule=str(d.rrule), timezone=d.timezone)
            mine = {s.slug: s for s in client.read_deployment_schedules(dep.id)}
            if d.slug in mine:
                client.update_deployment_schedule(dep.id, mine[d.slug].id, active=d.active, schedule=schedule,
                                                  parameters=d.parameters)
                action = "updated" if d.active else "paused"
            else:
                client.create_deployment_schedules(dep.id, [DeploymentScheduleCreate(
                    schedule=schedule, active=d.active, parameters=d.parameters, slug=d.slug)])
                action = "created" if d.active else "created paused"
            done.append({**row, "action": action})
    return done


@schedule_app.command("sync")
def schedule_sync(dry_run: bool = typer.Option(False, "--dry-run", help="Show the schedules without touching Prefect"),
                  as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON"),
                  org: Path | None = typer.Option(None, "--org", envvar="GOLIVE_ORG", help="Organization file")) -> None:
    """Create, update and pause deployment schedules from the stored plan: each wave's gate (1-3) on
    business days (Mon-Fri, not the organization's holidays) from its go-live until GO; the rollback watch hourly for live locations; the weekly program status;
    deadline reminders hourly while a phase runs or a rollback is open."""
    import os

    from golive.flows.engine.org import load_org
    from golive.tasks.program.schedules import desired
    from golive.tasks.store import Store

    try:
        organization = load_org(org)
    except (RunbookInvalid, UserInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    store = Store.open()
    try:
        wanted = desired(store, getattr(organization, "timezone", None) or "UTC",
                         holidays=getattr(organization, "holiday_days", frozenset()))
    except UserInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        store.dispose()
    if dry_run:
        rows = [{**d.to_dict(), "action": "dry run"} for d in wanted]
    else:
        if not os.environ.get("PREFECT_API_URL"):
            typer.echo("error: PREFECT_API_URL is not set: schedules live on a Prefect server "
                       "(`golive server start`, then export PREFECT_API_URL)", err=True)
            raise typer.Exit(2)
        rows = apply_schedules(wanted)
    if as_json:
        typer.echo(json.dumps(rows, default=str))
    else:
        for r in rows:
            typer.echo(f"{r['deployment']} [{r['slug']}] {r['cadence']} from {r['anchor']}: "
                       f"{'active' if r['active'] else 'paused'} ({r['why']}) -> {r['action']}")
    raise typer.Exit(1 if any(r["action"].startswith("missing") for r in rows) else 0)
