"""The `golive` command line. Exit codes: 0 done, 1 the run failed, 2 bad input (nothing ran)."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from golive.flows.cli import compliance as cli_compliance
from golive.flows.cli import imaging as cli_imaging
from golive.flows.cli import pms as cli_pms
from golive.flows.cli import program as cli_program
from golive.flows.cli import rehearse as cli_rehearse
from golive.flows.cli import runs as cli_runs
from golive.flows.engine.scope import jsonable
from golive.tasks.foundation.errors import RunbookInvalid, UserInputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="golive: rollout runbooks for a dental group, run through Prefect.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
app.add_typer(audit_app, name="audit")
server_app = typer.Typer(no_args_is_help=True, help="A long-lived local Prefect server (UI) that runs reuse.")
app.add_typer(server_app, name="server")
app.add_typer(cli_pms.app, name="pms")
app.add_typer(cli_runs.app, name="runs")
app.add_typer(cli_imaging.app, name="imaging")
app.add_typer(cli_compliance.app, name="compliance")
org_app = typer.Typer(no_args_is_help=True, help="The organization file (people, locations, standards).")
app.add_typer(org_app, name="org")
metrics_app = typer.Typer(no_args_is_help=True, help="Baseline and rollout metrics in the store.")
app.add_typer(metrics_app, name="metrics")
app.command("status")(cli_program.status)
app.command("rehearse")(cli_rehearse.rehearse)
app.add_typer(cli_program.schedule_app, name="schedule")


class PlanFormat(str, Enum):
    text = "text"
    mermaid = "mermaid"
    json = "json"


def fail_input(message: str) -> typer.Exit:
    typer.echo(message, err=True)  # plain text: one issue per line, never re-wrapped
    return typer.Exit(2)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`-p NAME=VALUE`, VALUE read as YAML (`-p wave=2`, `-p locations=[a,b]`, `-p fail=true`)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise UserInputError(f"-p {pair!r}: expected NAME=VALUE")
        try:
            value = YAML(typ="safe", pure=True).load(raw) if raw.strip() else ""
            # Dates stay ISO strings, as JSON-Schema `format: date` parameters expect.
            out[name.strip()] = jsonable(value)
        except YAMLError as exc:
            raise UserInputError(f"-p {name}: value is not valid YAML ({str(exc).splitlines()[0]})") from None
    return out


@app.command()
def validate(paths: list[Path] = typer.Argument(..., help="Runbook files or directories")) -> None:
    """Validate runbooks; print every problem as PATH:LINE:COL: error: MESSAGE."""
    from golive.flows.engine.validate import validate_paths

    books, issues = validate_paths(paths)
    if issues:
        for issue in issues:
            typer.echo(issue.format())
        raise typer.Exit(2)
    typer.echo(f"{len(books)} runbook{'s' if len(books) != 1 else ''} valid")


@app.command()
def plan(runbook: str = typer.Argument(..., help="Runbook name or path"),
         param: list[str] = typer.Option([], "-p", "--param", help="NAME=VALUE (VALUE is YAML)"),
         fmt: PlanFormat = typer.Option(PlanFormat.text, "--format"),
         start: str | None = typer.Option(None, "--start", help="Run start date (YYYY-MM-DD) for due dates")) -> None:
    """Show the step graph with owners and due dates."""
    from golive.flows.engine import plan as planner
    from golive.flows.engine.validate import check_parameters, validate_file
    from golive.tasks.foundation.paths import resolve_runbook

    try:
        book = validate_file(resolve_runbook(runbook))
        check_parameters(book, parse_params(param), require_all=False)  # the graph needs no values
        start_date = date.fromisoformat(start) if start else None
    except RunbookInvalid as exc:
        raise fail_input(str(exc)) from None
    except UserInputError as exc:
        raise fail_input(f"error: {exc}") from None
    except ValueError:
        raise fail_input(f"error: --start {start!r} is not a date (YYYY-MM-DD)") from None
    if fmt is PlanFormat.mermaid:
        typer.echo(planner.as_mermaid(book))
    elif fmt is PlanFormat.json:
        typer.echo(planner.as_json(book, start_date))
    else:
        typer.echo(planner.as_text(book, start_date))


@app.command()
def run(runbook: str = typer.Argument(..., help="Runbook name or path"),
        param: list[str] = typer.Option([], "-p", "--param", help="NAME=VALUE (VALUE is YAML)"),
        org: Path | None = typer.Option(None, "--org", envvar="GOLIVE_ORG", help="Organization file"),
        approve: list[str] = typer.Option([], "--approve", help="STEP=NAME:ROLE[:reject]"),
        confirm: list[str] = typer.Option([], "--confirm", help="Confirm every manual item of STEP"),
        inputs: Path | None = typer.Option(None, "--inputs", help="YAML file of approvals/confirmations"),
        run_key: str | None = typer.Option(None, "--run-key", help="Resume key (default: runbook + parameters)"),
        as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on stdout")) -> None:
    """Run a runbook through Prefect (embedded server unless PREFECT_API_URL is set)."""
    from golive.flows.cli.local_run import LocalRun

    try:
        local = LocalRun.prepare(runbook, parse_params(param), org=org, approve=approve, confirm=confirm,
                                 inputs=inputs, run_key=run_key)
    except RunbookInvalid as exc:
        raise fail_input(str(exc)) from None
    except UserInputError as exc:
        raise fail_input(f"error: {exc}") from None
    from rich.console import Console  # here, not at import: `golive validate` stays quick

    try:
        result = local.execute(console=Console(stderr=True, highlight=False, soft_wrap=True),
                               interactive=sys.stdin.isatty() and not as_json)
    except UserInputError as exc:  # e.g. the run key is held by a live run
        raise fail_input(f"error: {exc}") from None
    if as_json:
        typer.echo(json.dumps(result, default=str))
    else:
        local.print_summary(result, Console(highlight=False, soft_wrap=True))
    raise typer.Exit(0 if result["state"] == "completed" else 1)


@audit_app.command("verify")
def audit_verify() -> None:
    """Verify the audit log's hash chain; exit 1 naming the first bad entry."""
    from golive.tasks.foundation.errors import StoreError
    from golive.tasks.store import Store, verify_report

    try:
        code, message = verify_report(Store.open())
    except StoreError as exc:
        if "audit key is missing" in str(exc):  # a verification failure (exit 1), not bad input
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        raise fail_input(f"error: {exc}") from None
    typer.echo(message, err=code != 0)
    raise typer.Exit(code)


@audit_app.command("key")
def audit_key() -> None:
    """This worker's audit key fingerprint and where it comes from, against the store's; exit 1 when
    they differ (every worker of a shared installation needs the same key)."""
    from golive.tasks.foundation.errors import StoreError
    from golive.tasks.store import Store

    try:
        store = Store.open()
        try:
            mine, recorded, source = store.audit.fingerprint(), store.audit.recorded_fingerprint(), store.audit.key_source
        finally:
            store.dispose()
    except (StoreError, UserInputError) as exc:
        raise fail_input(f"error: {exc}") from None
    typer.echo(f"this worker's key: {mine} (from {source})")
    typer.echo(f"the store's key:   {recorded or 'none yet (no audit entry)'}")
    if recorded is not None and recorded != mine:
        typer.echo("error: the keys differ; set GOLIVE_AUDIT_KEY=prefect-secret:NAME (or env:NAME) on every worker",
                   err=True)
        raise typer.Exit(1)


@org_app.command("check")
def org_check(path: Path | None = typer.Argument(None, help="Organization file (default: GOLIVE_ORG or the example)")) -> None:
    """Validate an organization file; print every problem as PATH:LINE:COL: error: MESSAGE."""
    from golive.flows.engine.org import load_org, org_path

    try:
        org = load_org(path)
    except RunbookInvalid as exc:
        typer.echo(str(exc))
        raise typer.Exit(2) from None
    except UserInputError as exc:
        raise fail_input(f"error: {exc}") from None
    typer.echo(f"{org_path(path)}: {org.name}, {len(org.locations)} locations, {len(org.people)} people valid")


@metrics_app.command("import")
def metrics_import(files: list[Path] = typer.Argument(..., help="CSV exports (one row per location and metric)"),
                   source: str | None = typer.Option(None, "--source", help="Source name recorded with each row"),
                   skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Import the good rows of a file with errors"),
                   org: Path | None = typer.Option(None, "--org", envvar="GOLIVE_ORG", help="Organization file")) -> None:
    """Import baseline/metric CSVs into the store: idempotent; a file with errors imports nothing."""
    from golive.flows.engine.org import load_org
    from golive.tasks.planning.metrics import import_metrics_csv
    from golive.tasks.store import Store

    try:
        organization = load_org(org)
        store = Store.open()
        for path in files:
            result = import_metrics_csv(store, path, source, skip_bad_rows, org=organization)
            typer.echo(result.summary())
    except RunbookInvalid as exc:
        raise fail_input(str(exc)) from None
    except UserInputError as exc:
        raise fail_input(str(exc)) from None


@metrics_app.command("status")
def metrics_status(location: list[str] = typer.Option(None, "--location", help="Only these location ids"),
                   as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table")) -> None:
    """Per location and metric: the last day collected, its source and the days recorded missing."""
    from golive.tasks.gates.collected import status
    from golive.tasks.store import Store

    try:
        rows = status(Store.open(), locations=location or None)
    except UserInputError as exc:
        raise fail_input(f"error: {exc}") from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no metrics collected yet (run the collect-daily-metrics runbook)")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("location", "metric", "last day", "source", "days", "closed", "missing days", title="collected metrics")
    for r in rows:
        missing = r["missing_days"]
        shown = ", ".join(missing[:5]) + (f" (+{len(missing) - 5})" if len(missing) > 5 else "")
        table.add_row(r["location"], r["metric"], r["last_day"] or "never", r["source"] or "-",
                      str(r["collected_days"]), str(r["closed_days"]), shown or "none")
    Console(highlight=False, soft_wrap=True).print(table)


@server_app.command("start")
def server_start(port: int | None = typer.Option(None, help="Port on 127.0.0.1 (default GOLIVE_SERVER_PORT or 4270)")) -> None:
    """Start the local Prefect server (state under .golive/prefect) unless it is already up."""
    from golive.flows.cli import local_server

    try:
        info = local_server.start(port or None)
    except UserInputError as exc:  # the port is held by something else
        raise fail_input(f"error: {exc}") from None
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Prefect UI: {info.ui_url}  (API {info.url}, pid {info.pid})")
    if info.reports_url:
        typer.echo(f"Reports:    {info.reports_url}/  (out/, read-only, this machine only)")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the local Prefect server."""
    from golive.flows.cli import local_server

    typer.echo("stopped" if local_server.stop() else "no local server recorded")


@server_app.command("status")
def server_status() -> None:
    """Say whether the local Prefect server is up; exit 1 when it is not."""
    from golive.flows.cli import local_server

    info = local_server.running()
    if info is None:
        typer.echo("no local Prefect server is running (golive run uses a temporary one)")
        raise typer.Exit(1)
    typer.echo(f"Prefect UI: {info.ui_url}  (API {info.url}, pid {info.pid})")
    if info.reports_url:
        typer.echo(f"Reports:    {info.reports_url}/")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
