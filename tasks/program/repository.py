"""Reading and writing the program tables. A transition of several locations is written in one
transaction: all of them change, or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from golive.tasks.program.lifecycle import State
from golive.tasks.program.records import (
    GuardOverrideRow,
    ProgramEventRow,
    ProgramLocationRow,
    ProgramPhaseRow,
    ValidationResultRow,
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Where:
    location: str
    state: State
    wave: int | None
    paused_from: State | None
    reason: str | None
    remediation: list[dict[str, Any]] | None
    go_live_on: date | None

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "state": self.state.value, "wave": self.wave,
                "paused_from": self.paused_from.value if self.paused_from else None, "reason": self.reason,
                "remediation": self.remediation, "go_live_on": self.go_live_on.isoformat() if self.go_live_on else None}


def _where(r: ProgramLocationRow) -> Where:
    return Where(r.location_id, State(r.state), r.wave, State(r.paused_from) if r.paused_from else None, r.reason,
                 r.remediation, r.go_live_on)


def locations(store: Any) -> dict[str, Where]:
    with store.session(readonly=True) as session:
        return {r.location_id: _where(r) for r in session.scalars(select(ProgramLocationRow))}


@dataclass(frozen=True)
class Change:
    location: str
    target: State
    wave: int | None
    on_day: date
    reason: str | None = None
    remediation: list[dict[str, Any]] | None = None
    overrides: tuple[int, ...] = ()


def apply(store: Any, changes: Sequence[Change], *, run_id: str, step_key: str) -> list[dict[str, Any]]:
    """Write the changes (already checked) and their events in one transaction."""
    done = []
    with store.session() as session:
        for c in changes:
            row = session.get(ProgramLocationRow, c.location)
            before = None if row is None else row.state
            if row is None:
                row = ProgramLocationRow(location_id=c.location, state=c.target.value, updated_at=_now())
                session.add(row)
            row.paused_from = before if c.target is State.PAUSED else None
            row.state, row.updated_at = c.target.value, _now()
            if c.wave is not None:
                row.wave = c.wave
            if c.reason is not None:
                row.reason = c.reason
            if c.target is State.DEFERRED:
                row.remediation = c.remediation or []
            if c.target is State.LIVE:
                row.go_live_on = c.on_day
            session.add(ProgramEventRow(location_id=c.location, from_state=before, to_state=c.target.value,
                                        wave=row.wave, reason=c.reason, on_day=c.on_day, run_id=run_id,
                                        step_key=step_key, overrides=list(c.overrides), at=_now()))
            done.append({"location": c.location, "from": before, "to": c.target.value, "wave": row.wave,
                         "on": c.on_day.isoformat(), "overrides": list(c.overrides)})
    return done


def events(store: Any, location: str | None = None, to_state: State | None = None) -> list[dict[str, Any]]:
    q = select(ProgramEventRow).order_by(ProgramEventRow.id)
    if location is not None:
        q = q.where(ProgramEventRow.location_id == location)
    if to_state is not None:
        q = q.where(ProgramEventRow.to_state == to_state.value)
    with store.session(readonly=True) as session:
        return [{"id": r.id, "location": r.location_id, "from": r.from_state, "to": r.to_state, "wave": r.wave,
                 "reason": r.reason, "on": r.on_day, "run_id": r.run_id, "step": r.step_key,
                 "overrides": list(r.overrides), "at": r.at.isoformat()} for r in session.scalars(q)]


def go_live_days(store: Any) -> list[tuple[str, date, int | None]]:
    """(location, day, wave) of every go-live so far, rolled back or not: a slot once used is used."""
    return [(e["location"], e["on"], e["wave"]) for e in events(store, to_state=State.LIVE)]


def record_override(store: Any, *, guard: str, subject: str, wave: int | None, detail: str, name: str, role: str,
                    reason: str, run_id: str, step_key: str) -> int:
    with store.session() as session:
        row = GuardOverrideRow(guard=guard, subject=subject, wave=wave, detail=detail, name=name, role=role,
                               reason=reason, run_id=run_id, step_key=step_key, at=_now())
        session.add(row)
        session.flush()
        return int(row.id)


def overrides(store: Any) -> list[dict[str, Any]]:
    with store.session(readonly=True) as session:
        return [{"id": r.id, "guard": r.guard, "subject": r.subject, "wave": r.wave, "detail": r.detail,
                 "name": r.name, "role": r.role, "reason": r.reason, "run_id": r.run_id, "at": r.at.isoformat()}
                for r in session.scalars(select(GuardOverrideRow).order_by(GuardOverrideRow.id))]


def record_validation(store: Any, *, location: str, passed: bool, evidence: str | None, run_id: str) -> None:
    with store.session() as session:
        session.add(ValidationResultRow(location_id=location, passed=passed, evidence=evidence, run_id=run_id,
                                        at=_now()))


def latest_validations(store: Any) -> dict[str, dict[str, Any]]:
    with store.session(readonly=True) as session:
        out: dict[str, dict[str, Any]] = {}
        for r in session.scalars(select(ValidationResultRow).order_by(ValidationResultRow.id)):
            out[r.location_id] = {"passed": r.passed, "evidence": r.evidence, "run_id": r.run_id,
                                  "at": r.at.isoformat()}
        return out


def forget_runs(store: Any, run_ids: set[str]) -> int:
    """Remove what the given runs recorded in the program tables (a rehearsal starting over); a
    location is forgotten only when every one of its transitions came from those runs."""
    from sqlalchemy import delete

    with store.session() as session:
        events = list(session.scalars(select(ProgramEventRow)))
        mine = {e.location_id for e in events if e.run_id in run_ids}
        others = {e.location_id for e in events if e.run_id not in run_ids}
        gone = sorted(mine - others)
        session.execute(delete(ProgramEventRow).where(ProgramEventRow.run_id.in_(run_ids)))
        session.execute(delete(GuardOverrideRow).where(GuardOverrideRow.run_id.in_(run_ids)))
        session.execute(delete(ValidationResultRow).where(ValidationResultRow.run_id.in_(run_ids)))
        session.execute(delete(ProgramPhaseRow).where(ProgramPhaseRow.run_id.in_(run_ids)))
        if gone:
            session.execute(delete(ProgramLocationRow).where(ProgramLocationRow.location_id.in_(gone)))
        return len(gone)


@dataclass(frozen=True)
class PlannedPhase:
    """A phase of the stored plan: `pre-implementation`, or `wave-N` with its wave."""

    phase: str
    wave: int | None
    starts_on: date
    first_go_live: date | None
    ends_on: date

    def running(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "wave": self.wave, "starts_on": self.starts_on.isoformat(),
                "first_go_live": self.first_go_live.isoformat() if self.first_go_live else None,
                "ends_on": self.ends_on.isoformat()}


def record_phases(store: Any, phases: Sequence[PlannedPhase], *, run_id: str) -> None:
    """Store the plan's phases; a later plan replaces a phase of the same name."""
    with store.session() as session:
        for p in phases:
            row = session.get(ProgramPhaseRow, p.phase) or ProgramPhaseRow(phase=p.phase)
            row.wave, row.starts_on, row.first_go_live, row.ends_on = p.wave, p.starts_on, p.first_go_live, p.ends_on
            row.run_id, row.at = run_id, _now()
            session.add(row)


def phases(store: Any) -> dict[str, PlannedPhase]:
    with store.session(readonly=True) as session:
        rows = session.scalars(select(ProgramPhaseRow).order_by(ProgramPhaseRow.starts_on))
        return {r.phase: PlannedPhase(r.phase, r.wave, r.starts_on, r.first_go_live, r.ends_on) for r in rows}
