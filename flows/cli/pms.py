"""`golive pms check --location ID [--json]`: the PMS battery for one location, ad hoc.

Exit 0 when every check passed, 1 when any failed / was not supported / not verified, 2 for bad
input (unknown location, unusable connection settings). Output carries pseudonyms only.
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
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Run the playbook's PMS battery for one location."""
    from golive.flows.engine.org import load_org
    from golive.tasks.pms.check import ALL_CHECKS, check_location
    from golive.tasks.pms.protocol import PmsConfigError
    from golive.tasks.store import Store

    override: dict[str, Any] = {k: v for k, v in {"base_url": base_url, "secret": secret,
                                "developer_secret": developer_secret, "dsn": dsn}.items() if v}
    if allow_insecure_local:
        override["allow_insecure_local"] = True
    unknown = [c for c in only if c not in ALL_CHECKS]
    try:
        if unknown:
            raise UserInputError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(ALL_CHECKS)}")
        organization = load_org(org)
        store = Store.open()
        report = check_location(organization, location, store, test_patient=test_patient,
                                connection=override or None, checks=only or ALL_CHECKS)
    except (UserInputError, PmsConfigError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
    else:
        typer.echo(f"{report['location']}: {report['pms']} via {report['route']}")
        for c in report["checks"]:
            typer.echo(f"  {c['status']:<14} {c['check']:<20} {c['summary']}")
    raise typer.Exit(0 if report["passed"] else 1)
