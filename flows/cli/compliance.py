"""`golive compliance evidence add|list`, `golive compliance status`: the HIPAA checklist's evidence
and where it stands, from the command line (the security-compliance runbook does the same in a run).

Exit codes: `status` 0 when every requirement is complete, 1 otherwise; 2 for bad input.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from golive.tasks.foundation.errors import UserInputError

app = typer.Typer(no_args_is_help=True, help="Security and HIPAA compliance: evidence and status.")
evidence_app = typer.Typer(no_args_is_help=True, help="Documents kept as evidence (hash, who, when, expiry).")
app.add_typer(evidence_app, name="evidence")


def _day(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


@evidence_app.command("add")
def add(
    requirement: str = typer.Option(..., "--requirement", help="Requirement id (baa, encryption-at-rest, ...)"),
    file: Path = typer.Option(..., "--file", help="The document"),
    by: str = typer.Option(..., "--by", help="Who supplied it, as NAME:ROLE (e.g. 'Helen Marsh:Legal')"),
    supplied: str = typer.Option(..., "--date", help="When it was supplied (YYYY-MM-DD)"),
    expires: str | None = typer.Option(None, "--expires", help="When it lapses (vendor attestations)"),
    location: str = typer.Option("", "--location", help="The location it is for (default: the organization)"),
    note: str = typer.Option("", "--note", help="A remark shown beside it"),
) -> None:
    """Store a document as evidence: copied by its SHA-256 under GOLIVE_HOME/evidence, recorded and audited."""
    from golive.tasks.compliance import evidence
    from golive.tasks.store import Store

    try:
        name, sep, role = by.rpartition(":")
        if not sep or not name.strip() or not role.strip():
            raise UserInputError(f"--by {by!r}: expected NAME:ROLE")
        on = _day(supplied, "--date")
        assert on is not None
        rec = evidence.record_document(Store.open(), subject=requirement, file=file, supplied_by=name, role=role,
                                       supplied_on=on, expires_on=_day(expires, "--expires"), location=location,
                                       note=note)
    except UserInputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{rec.subject}: {rec.file_name} sha256 {rec.sha256} ({rec.supplied_by}, {rec.supplied_role}, "
               f"{rec.supplied_on}{', lapses ' + rec.expires_on.isoformat() if rec.expires_on else ''})")


@evidence_app.command("list")
def list_(
    requirement: str | None = typer.Option(None, "--requirement", help="Only this requirement"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON array"),
) -> None:
    """Every piece of evidence on record, oldest first."""
    from golive.tasks.compliance import evidence
    from golive.tasks.store import Store

    records = [r.to_dict() for r in evidence.history(Store.open(), subject=requirement)]
    if as_json:
        typer.echo(json.dumps(records, sort_keys=True))
        return
    for r in records:
        where = f" [{r['location']}]" if r["location"] else ""
        typer.echo(f"{r['recorded_at'][:10]}  {r['subject']:<24}{where} {r['kind']:<8} {r['outcome']:<8} "
                   f"{r['file'] or '-'}  {r['supplied_by']}")


@app.command("status")
def status(
    location: str | None = typer.Option(None, "--location", help="For one location (its access checks count)"),
    org: Path | None = typer.Option(None, "--org", help="Organization file (default GOLIVE_ORG or the example)"),
    as_of: str | None = typer.Option(None, "--as-of", help="Judge expiry as of this day (default today)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """The HIPAA checklist: each requirement's state and what is missing; whether PHI may flow."""
    from golive.flows.engine.org import load_org
    from golive.tasks.compliance.status import compliance_status
    from golive.tasks.store import Store

    try:
        today = _day(as_of, "--as-of") or datetime.now(UTC).date()
        result = compliance_status(Store.open(), load_org(org), today=today, location=location)
    except UserInputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
    else:
        where = f" from {location}" if location else " from every location"
        typer.echo(f"PHI may flow to the vendor{where}: {'yes' if result.phi_ready else 'no'}")
        for s in result.requirements:
            missing = f"  ({'; '.join(s.missing)})" if s.missing else ""
            typer.echo(f"  {s.state.value:<9} {s.requirement.text}{missing}")
    raise typer.Exit(0 if all(s.state.value == "complete" for s in result.requirements) else 1)
