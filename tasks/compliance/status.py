"""Where security and compliance stand: every HIPAA requirement's state from the evidence on record,
the PHI guard's answer for a location, reminders that are due, overrides given, and the latest
access and configuration checks.

`compliance_status(store, org, today=...)` is a plain function returning a frozen
`ComplianceStatus`: the security and compliance report renders it, and a stakeholder pack for the
VP of IT and Legal can reuse it as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from golive.tasks.compliance.evidence import Evidence, Kind, Outcome, history, latest
from golive.tasks.compliance.requirements import (
    BY_ID,
    OTHER_SUBJECTS,
    REQUIREMENTS,
    Check,
    Requirement,
    State,
)
from golive.tasks.store import Store
from golive.tasks.store.models import AuditEntryRow

OVERRIDE_EVENT = "phi_guard.override"
NOTICE_DAYS = 30  # attestations and awaited vendor actions are flagged this long before they lapse


@dataclass(frozen=True)
class RequirementStatus:
    requirement: Requirement
    state: State
    missing: tuple[str, ...]  # what keeps it from complete, in words
    document: Evidence | None
    check: Evidence | None
    checked_locations: int = 0  # per-location checks in an organization-wide view

    @property
    def expires_on(self) -> date | None:
        return self.document.expires_on if self.document is not None else None

    def to_dict(self) -> dict[str, Any]:
        r = self.requirement
        return {"id": r.id, "requirement": r.text, "verification": r.verification, "owner": r.owner.value,
                "vendor": r.vendor, "before_phi": r.before_phi, "state": self.state.value,
                "missing": list(self.missing), "document": self.document.to_dict() if self.document else None,
                "check": self.check.to_dict() if self.check else None,
                "expires_on": self.expires_on.isoformat() if self.expires_on else None,
                "checked_locations": self.checked_locations}


@dataclass(frozen=True)
class Reminder:
    """A document about to lapse (or lapsed), or a vendor action past or near its due date."""

    subject: str
    title: str
    location: str
    due_on: date
    days_left: int  # negative: overdue by that many days
    owner_roles: tuple[str, ...]
    what: str  # renewal | awaited

    def to_dict(self) -> dict[str, Any]:
        overdue = self.days_left < 0
        when = f"overdue by {-self.days_left} day(s)" if overdue else f"due in {self.days_left} day(s)"
        where = f" at {self.location}" if self.location else ""
        verb = "renew" if self.what == "renewal" else "follow up"
        return {"subject": self.subject, "title": self.title, "location": self.location or None,
                "due_on": self.due_on.isoformat(), "days_left": self.days_left, "overdue": overdue,
                "to": list(self.owner_roles), "what": self.what,
                "message": f"{self.title}{where}: {when} ({self.due_on.isoformat()}); please {verb}."}


@dataclass(frozen=True)
class GuardOverride:
    """A recorded approval that let PHI flow to the vendor before its prerequisites were complete."""

    location: str
    approved_by: str
    role: str
    reason: str
    missing: tuple[str, ...]
    at: str
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "approved_by": self.approved_by, "role": self.role,
                "reason": self.reason, "missing": list(self.missing), "at": self.at, "run_id": self.run_id}


@dataclass(frozen=True)
class CheckSummary:
    """The latest result of a per-location check (access matrix, configuration) in brief."""

    location: str
    passed: bool
    checked_on: date
    summary: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location or "(organization)", "passed": self.passed,
                "checked_on": self.checked_on.isoformat(), **dict(self.summary)}


@dataclass(frozen=True)
class ComplianceStatus:
    organization: str
    as_of: date
    location: str | None  # None: the whole organization
    requirements: tuple[RequirementStatus, ...]
    reminders: tuple[Reminder, ...]
    overrides: tuple[GuardOverride, ...]
    access: tuple[CheckSummary, ...]
    configuration: tuple[CheckSummary, ...]
    matrix_basis: str | None  # assumption | approved | None (no matrix in the organization file)

    @property
    def phi_missing(self) -> tuple[str, ...]:
        return tuple(f"{s.requirement.id}: {'; '.join(s.missing) or s.state.value}"
                     for s in self.requirements if s.requirement.before_phi and s.state is not State.COMPLETE)

    @property
    def phi_ready(self) -> bool:
        return not self.phi_missing

    def counts(self) -> dict[str, int]:
        return {state.value: sum(s.state is state for s in self.requirements) for state in State}

    def to_dict(self) -> dict[str, Any]:
        return {"organization": self.organization, "as_of": self.as_of.isoformat(), "location": self.location,
                "phi_ready": self.phi_ready, "phi_missing": list(self.phi_missing), "counts": self.counts(),
                "requirements": [s.to_dict() for s in self.requirements],
                "reminders": [r.to_dict() for r in self.reminders],
                "overrides": [o.to_dict() for o in self.overrides],
                "access": [a.to_dict() for a in self.access],
                "configuration": [c.to_dict() for c in self.configuration],
                "access_violations": sum(int(a.summary.get("violations", 0)) for a in self.access),
                "configuration_drift": sum(int(c.summary.get("drift", 0)) for c in self.configuration),
                "matrix_basis": self.matrix_basis}


def requirement_status(req: Requirement, newest: Mapping[tuple[str, str, Kind], Evidence], *, today: date,
                       location: str | None) -> RequirementStatus:
    """The state of one requirement for `location` (None: the organization as a whole)."""
    missing: list[str] = []
    state = State.COMPLETE
    document = None
    if req.document is not None:
        document = (newest.get((req.id, location, Kind.DOCUMENT)) if location else None) \
            or newest.get((req.id, "", Kind.DOCUMENT))
        if document is None:
            missing.append(f"no evidence on record ({req.document})")
            state = State.PENDING
        elif document.expired(today):
            missing.append(f"{document.file_name} expired on {document.expires_on}")
            state = State.EXPIRED
    check, checked = None, 0
    if req.check is not None:
        check, checked, failed_at = _check_result(req, req.check, newest, location)
        if check is None:
            where = f" at {location}" if location and req.check.per_location else ""
            missing.append(f"automated check '{req.check.value}' not run{where}")
            state = state if state is not State.COMPLETE else State.PENDING
        elif failed_at:
            missing.append(f"automated check '{req.check.value}' failed" + (f" at {', '.join(failed_at)}"
                                                                             if req.check.per_location else ""))
            state = State.FAILED
    return RequirementStatus(req, state, tuple(missing), document, check, checked)


def _check_result(req: Requirement, check: Check, newest: Mapping[tuple[str, str, Kind], Evidence],
                  location: str | None) -> tuple[Evidence | None, int, list[str]]:
    """The check row that decides, how many locations were checked, and where it failed."""
    if not check.per_location or location is not None:
        where = location or "" if check.per_location else ""  # organization-wide checks count everywhere
        row = newest.get((req.id, where, Kind.CHECK))
        return row, int(row is not None), ([where or "organization"] if row and row.outcome is Outcome.FAILED else [])
    rows = [r for (subject, _loc, kind), r in newest.items() if subject == req.id and kind is Kind.CHECK]
    if not rows:
        return None, 0, []
    failed = sorted(r.location or "organization" for r in rows if r.outcome is Outcome.FAILED)
    decisive = next((r for r in rows if r.outcome is Outcome.FAILED), max(rows, key=lambda r: r.recorded_at))
    return decisive, len(rows), failed


def reminders(records: Iterable[Evidence], *, today: date, notice_days: int = NOTICE_DAYS) -> list[Reminder]:
    """Attestations lapsing within `notice_days` (or lapsed), and awaited actions near or past due."""
    newest = latest(list(records))
    out: list[Reminder] = []
    for (subject, location, kind), rec in newest.items():
        if rec.expires_on is None:  # no expiry, or an awaited action already done
            continue
        days_left = (rec.expires_on - today).days
        if days_left > notice_days:
            continue
        if kind is Kind.DOCUMENT:
            req = BY_ID.get(subject)
            title = req.text if req else OTHER_SUBJECTS.get(subject, subject)
            roles = req.owner_roles if req else ("VP of IT",)
            out.append(Reminder(subject, f"{title}: {rec.file_name}", location, rec.expires_on, days_left, roles,
                                "renewal"))
        elif kind is Kind.REQUEST and rec.outcome is Outcome.PENDING:
            answered = newest.get((subject, location, Kind.DOCUMENT)) or newest.get((subject, location, Kind.CHECK))
            if answered is not None and answered.recorded_at >= rec.recorded_at:
                continue
            out.append(Reminder(subject, OTHER_SUBJECTS.get(subject, subject), location, rec.expires_on, days_left,
                                (rec.supplied_role,), "awaited"))
    return sorted(out, key=lambda r: (r.days_left, r.subject, r.location))


def overrides(store: Store, location: str | None = None) -> list[GuardOverride]:
    stmt = select(AuditEntryRow.data, AuditEntryRow.ts, AuditEntryRow.run_id).where(
        AuditEntryRow.event == OVERRIDE_EVENT).order_by(AuditEntryRow.seq)
    with store.session(readonly=True) as s:
        rows = s.execute(stmt).all()
    found = []
    for data_text, ts, run_id in rows:
        data = json.loads(data_text)
        if location is not None and data.get("location") != location:
            continue
        found.append(GuardOverride(str(data.get("location")), str(data.get("approved_by")), str(data.get("role")),
                                   str(data.get("reason", "")), tuple(data.get("missing") or ()), ts, run_id))
    return found


def _summaries(newest: Mapping[tuple[str, str, Kind], Evidence], subject: str,
               location: str | None) -> tuple[CheckSummary, ...]:
    rows = [r for (s, loc, kind), r in newest.items()
            if s == subject and kind is Kind.CHECK and (location is None or loc in (location, ""))]
    return tuple(CheckSummary(r.location, r.outcome is Outcome.PASSED, r.supplied_on, dict(r.summary))
                 for r in sorted(rows, key=lambda r: r.location))


def compliance_status(store: Store, org: Any, *, today: date, location: str | None = None,
                      notice_days: int = NOTICE_DAYS) -> ComplianceStatus:
    """Every requirement's state (for `location`, or the organization), reminders, overrides, checks."""
    if location is not None and org is not None:
        org.location(location)  # an unknown id is the user's mistake, said with a did-you-mean
    records = history(store)
    newest = latest(records)
    statuses = tuple(requirement_status(r, newest, today=today, location=location) for r in REQUIREMENTS)
    due = tuple(r for r in reminders(records, today=today, notice_days=notice_days)
                if location is None or r.location in ("", location))
    access_control = getattr(org, "access_control", None)
    return ComplianceStatus(
        organization=str(getattr(org, "name", "")), as_of=today, location=location, requirements=statuses,
        reminders=due, overrides=tuple(overrides(store, location)),
        access=_summaries(newest, "rbac", location),
        configuration=_summaries(newest, "configuration-standards", location),
        matrix_basis=getattr(access_control, "basis", None),
    )
