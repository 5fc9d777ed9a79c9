"""`golive pms check --location ID [--json]`: the PMS battery for one location, ad hoc.

Before the checks it prints the version, the location's pacing and the estimated duration; each
check is shown as it starts, with its own estimate, then its result. Exit 0 when every check
passed, 1 when any failed / was not supported / not verified, or the PMS could not be reached (one
line, within 10 s), 2 for bad input (unknown location, unusable connection settings, a secret that
cannot be resolved). Prefect Secret references are resolved with Prefect's home under GOLIVE_HOME.
Output carries pseudonyms only; with --json the progress goes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from golive.tasks.foundation.errors import UserInputError

app = typer.Typer(no_args_is_help=True, help="Practice-management system (PMS) integration checks.")


@app.command("check")
def check(
    location: str = typer.Option(..., "--location", help="Location id from the organization file"),
    org: Path | None = typer.Option(None, "--org", help="Organization file (default GOLIVE_ORG or the example)"),
    test_patient: str | None = typer.Option(None, "--test-patient", help="PMS id of the designated test patient"),
    only: list[str] = typer.Option([], "--check", help="Run only these checks (repeatable)"),
    base_url: str | None = typer.Option(None, help="Override: Open Dental API root"),
    secret: str | None = typer.Option(None, help="Override: secret reference (env:NAME | prefect-secret:NAME)"),
    developer_secret: str | None = typer.Option(None, help="Override: Open Dental developer key reference"),
    dsn: str | None = typer.Option(None, help="Override: ODBC DSN or SQLAlchemy URL (Dentrix, Eaglesoft)"),
    allow_insecure_local: bool = typer.Option(False, help="Allow plain HTTP to a loopback simulator"),
    request_interval: float | None = typer.Option(
        None, "--request-interval", help="Override: seconds between requests (default from the organization's "
        "pms.connection.throttle: 5, or 1 with extended API permissions; scale down only for a simulator)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Run the playbook's PMS battery for one location."""
    from golive.flows.cli import local_server
    from golive.flows.engine import prefect_env
    from golive.flows.engine.org import load_org
    from golive.tasks.pms.check import ALL_CHECKS, check_location
    from golive.tasks.pms.protocol import PmsConfigError, PmsUnreachable
    from golive.tasks.store import Store

    override: dict[str, Any] = {k: v for k, v in {"base_url": base_url, "secret": secret,
                                "developer_secret": developer_secret, "dsn": dsn}.items() if v}
    if allow_insecure_local:
        override["allow_insecure_local"] = True
    if request_interval is not None:
        override["request_interval_s"] = request_interval
    unknown = [c for c in only if c not in ALL_CHECKS]
    # A `prefect-secret:` reference is loaded through Prefect: its home is golive's, not ~/.prefect,
    # and a running `golive server` is used rather than a temporary one.
    local_server.use_if_running()
    prefect_env.configure()
    say = (lambda line: typer.echo(line, err=True)) if as_json else typer.echo  # noqa: E731
    try:
        if unknown:
            raise UserInputError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(ALL_CHECKS)}")
        organization = load_org(org)
        store = Store.open()
        report = check_location(organization, location, store, test_patient=test_patient,
                                connection=override or None, checks=only or ALL_CHECKS,
                                progress=_printer(say))
    except (UserInputError, PmsConfigError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except PmsUnreachable as exc:
        typer.echo(f"{location}: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
    raise typer.Exit(0 if report["passed"] else 1)


def _printer(say: Any) -> Any:
    from golive.tasks.pms.check import Progress
    from golive.tasks.pms.pacing import duration

    def planned(head: dict[str, Any], plan: list[Any]) -> None:
        version = f" {head['version']}" if head.get("version") else ""
        say(f"{head['location']}: {head['pms']}{version} via {head['route']}; pacing {head['pacing']}")
        est = head["estimate"]
        if est["requests"]:
            say(f"estimated: about {est['requests']} requests, {duration(est['seconds'])} "
                "(procedure-code list assumed 1,000 codes)")

    def started(index: int, total: int, planned_check: Any) -> None:
        cost = f" ({planned_check.describe()})" if planned_check.requests else ""
        say(f"[{index + 1}/{total}] {planned_check.check}{cost} ...")

    def done(result: Any) -> None:
        say(f"  {result.status.value:<14} {result.summary}")

    return Progress(planned=planned, started=started, done=done)
