"""Open, refresh, close and list register entries.

`observe` is what automated sources call: every entry they see now is opened (or refreshed, keeping
what people changed: owner, due date), and, for a source+subject prefix that was fully re-checked,
entries no longer seen are closed with a note. So a gate that passes again closes its own issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from golive.tasks.register.records import RiskRow

SOURCES = ("gate-failure", "rollback", "technical-check", "wave-size", "baseline-gap", "manual")


@dataclass(frozen=True)
class Entry:
    source: str
    subject: str
    title: str
    owner: str
    kind: str = "issue"
    severity: str = "high"
    location: str = ""
    wave: str = ""
    due: date | None = None
    decision: bool = False


def observe(store: Any, entries: list[Entry], *, rechecked: list[tuple[str, str]] = (), note: str = "") -> dict[str, int]:  # type: ignore[assignment]
    """Open/refresh `entries`; close open rows under each (source, subject prefix) in `rechecked` not seen now."""
    now = datetime.now(UTC)
    seen: set[tuple[str, str, str]] = set()
    counts = {"opened": 0, "refreshed": 0, "closed": 0, "reopened": 0}
    with store.session() as s:
        for e in entries:
            key = (e.source, e.subject, e.location)
            seen.add(key)
            row = s.execute(select(RiskRow).where(RiskRow.source == e.source, RiskRow.subject == e.subject,
                                                  RiskRow.location == e.location)).scalar_one_or_none()
            if row is None:
                s.add(RiskRow(source=e.source, subject=e.subject, location=e.location, wave=e.wave, kind=e.kind,
                              title=e.title, severity=e.severity, owner=e.owner, due=e.due, status="open",
                              decision=e.decision, note="", opened_at=now, updated_at=now))
                counts["opened"] += 1
                continue
            if row.status == "closed":
                row.status, row.note = "open", f"reopened {now:%Y-%m-%d}"
                row.due = e.due
                counts["reopened"] += 1
            else:
                counts["refreshed"] += 1
            row.title, row.severity, row.decision, row.updated_at = e.title, e.severity, e.decision, now
        for source, prefix in rechecked:
            for row in s.execute(select(RiskRow).where(RiskRow.source == source, RiskRow.status == "open",
                                                       RiskRow.subject.startswith(prefix))).scalars():
                if (row.source, row.subject, row.location) not in seen:
                    row.status, row.updated_at = "closed", now
                    row.note = note or f"no longer observed {now:%Y-%m-%d}"
                    counts["closed"] += 1
    return counts


def entries(store: Any, *, status: str | None = "open") -> list[dict[str, Any]]:
    with store.session(readonly=True) as s:
        q = select(RiskRow).order_by(RiskRow.due.is_(None), RiskRow.due, RiskRow.id)
        if status:
            q = q.where(RiskRow.status == status)
        return [{"id": r.id, "source": r.source, "subject": r.subject, "location": r.location, "wave": r.wave,
                 "kind": r.kind, "title": r.title, "severity": r.severity, "owner": r.owner,
                 "due": r.due.isoformat() if r.due else None, "status": r.status, "decision": r.decision,
                 "note": r.note} for r in s.execute(q).scalars()]
