"""Reading and writing the gate tables through the shared `Store` (SQLite or PostgreSQL).

Every write touches only the rows of the locations it is given: a rollback for one location
never changes another location's metrics, samples or status (the isolation protocol).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select

from golive.tasks.gates.observations import Observations, Sample
from golive.tasks.gates.records import (
    AvailabilitySampleRow,
    DailyMetricRow,
    GateVerdictRow,
    LocationRolloutRow,
    RollbackRow,
)
from golive.tasks.gates.verdict import Verdict
from golive.tasks.store.upsert import upsert, upsert_statement

SAMPLE_KEY = ("location_id", "metric", "day", "source")  # uq_gate_daily_metrics_key


def _now() -> datetime:
    return datetime.now(UTC)


def save_samples(store: Any, samples: Iterable[Sample], source: str) -> int:
    """Replace the stored days of each (location, metric) given, for `source`; returns rows written.

    One upsert on the (location, metric, day, source) key, so concurrent writers for one location
    (two metric runs, two workers) never fail on the unique index and never duplicate a day; days
    inside a given span that the new samples leave out are deleted, as before.
    """
    rows = list(samples)
    if not rows:
        return 0
    days: dict[tuple[str, str], set[date]] = {}
    for s in rows:
        days.setdefault((s.location, s.metric), set()).add(s.day)
    values = [{"location_id": s.location, "metric": s.metric, "day": s.day, "value": s.value,
               "numerator": s.numerator, "denominator": s.denominator, "source": source} for s in rows]
    table = cast(Table, DailyMetricRow.__table__)
    with store.session() as session:
        for (loc, metric), given in sorted(days.items()):
            session.execute(delete(DailyMetricRow).where(
                DailyMetricRow.location_id == loc, DailyMetricRow.metric == metric,
                DailyMetricRow.source == source, DailyMetricRow.day >= min(given),
                DailyMetricRow.day <= max(given), DailyMetricRow.day.not_in(sorted(given))))
        return upsert(session, store.dialect, table, values, SAMPLE_KEY)


def where_daily(q: Any, row: Any, locations: Sequence[str] | None, metrics: Sequence[str] | None,
                start: date | None, end: date | None) -> Any:
    """`q` narrowed to the given locations, metrics and day range (None: no bound) on a per-day row."""
    if locations is not None:
        q = q.where(row.location_id.in_(list(locations)))
    if metrics is not None:
        q = q.where(row.metric.in_(list(metrics)))
    if start is not None:
        q = q.where(row.day >= start)
    if end is not None:
        q = q.where(row.day <= end)
    return q


def load_observations(store: Any, *, locations: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
                      start: date | None = None, end: date | None = None,
                      extra: Sequence[Sample] = ()) -> Observations:
    """Stored daily metrics as dense arrays (a later source in name order wins on the same day)."""
    q = where_daily(select(DailyMetricRow), DailyMetricRow, locations, metrics, start, end)
    q = q.order_by(DailyMetricRow.source, DailyMetricRow.id)
    with store.session(readonly=True) as session:
        samples = [Sample(r.location_id, r.metric, r.day, r.value, r.numerator, r.denominator, r.source)
                   for r in session.scalars(q)]
    samples = [*extra, *samples]  # stored daily data wins over an imported period value on the same day
    return Observations.from_samples(samples, locations=locations, start=start, end=end)


def baseline_samples(store: Any, mapping: dict[str, str], locations: Sequence[str] | None = None) -> list[Sample]:
    """Imported baseline-report values (issue 3's `baseline_metrics`) as samples of gate metrics.

    `mapping` is {baseline metric id: gate metric}. A period's value lands on its last day; when
    the report gave a sample size, the counts come with it (numerator = value% × sample size), so
    a two-proportion test can use them. Read only: the planning table is never written here.
    """
    from golive.tasks.planning.metric_store import BaselineMetricRow

    if not mapping:
        return []
    q = select(BaselineMetricRow).where(BaselineMetricRow.metric.in_(list(mapping)))
    if locations is not None:
        q = q.where(BaselineMetricRow.location_id.in_(list(locations)))
    out = []
    with store.session(readonly=True) as session:
        for r in session.scalars(q.order_by(BaselineMetricRow.id)):
            num = den = None
            if r.sample_size:
                den = float(r.sample_size)
                num = float(round(r.value / 100.0 * den))
            out.append(Sample(r.location_id, mapping[r.metric], r.period_end, float(r.value), num, den, "baseline"))
    return out


def save_verdict(store: Any, verdict: Verdict, *, runbook: str, run_id: str, step_key: str,
                 wave: str | None = None) -> int:
    with store.session() as session:
        row = GateVerdictRow(gate=verdict.gate, runbook=runbook, run_id=run_id, step_key=step_key, wave=wave,
                             as_of=verdict.as_of, verdict=verdict.decision.value, score=verdict.score,
                             evidence=verdict.to_dict(), decided_at=_now())
        session.add(row)
        session.flush()
        return int(row.id)


def verdicts(store: Any, gate: str | None = None) -> list[dict[str, Any]]:
    q = select(GateVerdictRow).order_by(GateVerdictRow.id)
    if gate is not None:
        q = q.where(GateVerdictRow.gate == gate)
    with store.session(readonly=True) as session:
        return [{"id": r.id, "gate": r.gate, "wave": r.wave, "as_of": r.as_of.isoformat(), "verdict": r.verdict,
                 "score": r.score, "run_id": r.run_id, "evidence": r.evidence} for r in session.scalars(q)]


def decisions(store: Any, runbooks: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first recorded "proceed anyway" of each of `runbooks` (a gate's `decide` approval, given on
    an inconclusive verdict after its period closed), by runbook: who, role, comment, when, run."""
    from golive.tasks.store.models import ApprovalRow, RunRow

    q = (select(ApprovalRow, RunRow.runbook).join(RunRow, RunRow.run_id == ApprovalRow.run_id)
         .where(RunRow.runbook.in_(list(runbooks)), ApprovalRow.step_key == "decide",
                ApprovalRow.decision == "approve").order_by(ApprovalRow.id))
    out: dict[str, dict[str, Any]] = {}
    with store.session(readonly=True) as session:
        for a, runbook in session.execute(q):
            out.setdefault(str(runbook), {"name": a.name, "role": a.role, "comment": a.comment,
                                          "decided_at": a.decided_at.isoformat(), "run_id": a.run_id})
    return out


@dataclass(frozen=True)
class ProbeSample:
    location: str
    target: str
    checked_at: datetime
    ok: bool
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None


def save_probe(store: Any, sample: ProbeSample) -> None:
    with store.session() as session:
        session.add(AvailabilitySampleRow(
            location_id=sample.location, target=sample.target, checked_at=sample.checked_at, ok=sample.ok,
            status_code=sample.status_code, latency_ms=sample.latency_ms,
            error=None if sample.error is None else sample.error[:255]))


def probe_samples(store: Any, location: str, since: datetime | None = None) -> list[ProbeSample]:
    q = select(AvailabilitySampleRow).where(AvailabilitySampleRow.location_id == location).order_by(
        AvailabilitySampleRow.checked_at)
    if since is not None:
        q = q.where(AvailabilitySampleRow.checked_at >= since)
    with store.session(readonly=True) as session:
        return [ProbeSample(r.location_id, r.target, r.checked_at, r.ok, r.status_code, r.latency_ms, r.error)
                for r in session.scalars(q)]


def daily_availability(samples: Iterable[ProbeSample]) -> list[Sample]:
    """Probe samples → one `uptime_pct` per location and UTC day (successful / all probes)."""
    counts: dict[tuple[str, date], list[int]] = {}
    for s in samples:
        c = counts.setdefault((s.location, s.checked_at.astimezone(UTC).date()), [0, 0])
        c[0] += int(s.ok)
        c[1] += 1
    return [Sample(loc, "uptime_pct", day, 100.0 * ok / n, float(ok), float(n), "probe")
            for (loc, day), (ok, n) in sorted(counts.items())]


def open_rollback(store: Any, *, location: str, reason: str, triggers: Sequence[str], triggered_at: datetime,
                  run_id: str | None) -> tuple[int, bool]:
    """(id, created): an already open rollback for the location is returned, not duplicated.

    The partial unique index `uq_rollbacks_open_location` settles two concurrent watch runs:
    the insert does nothing when an open rollback exists, and the open one is returned.
    """
    table = cast(Table, RollbackRow.__table__)
    stmt = upsert_statement(store.dialect, table, ["location_id"], [], where=table.c.state == "open")
    with store.session() as session:
        result = session.execute(stmt.returning(table.c.id), {
            "location_id": location, "reason": reason, "triggers": list(triggers), "triggered_at": triggered_at,
            "state": "open", "run_id": run_id})
        new_id = result.scalar()
        if new_id is not None:
            return int(new_id), True
        existing = session.scalars(select(RollbackRow.id).where(
            RollbackRow.location_id == location, RollbackRow.state == "open")).one()
        return int(existing), False


def open_rollbacks(store: Any) -> dict[str, dict[str, Any]]:
    with store.session(readonly=True) as session:
        return {r.location_id: {"id": r.id, "reason": r.reason, "triggers": r.triggers,
                                "triggered_at": r.triggered_at.isoformat()}
                for r in session.scalars(select(RollbackRow).where(RollbackRow.state == "open"))}


def close_rollback(store: Any, location: str) -> bool:
    with store.session() as session:
        row = session.scalars(select(RollbackRow).where(
            RollbackRow.location_id == location, RollbackRow.state == "open")).first()
        if row is None:
            return False
        row.state, row.closed_at = "closed", _now()
        return True


def set_rollout(store: Any, location: str, *, status: str, workflow: str, reason: str | None = None,
                wave: str | None = None) -> dict[str, Any]:
    """Set one location's rollout status; returns the previous one (for undo).

    Concurrent writers: the row is created with `ON CONFLICT DO NOTHING`, then read locked
    (`FOR UPDATE` on PostgreSQL; SQLite writers are serialised), so none fails on the key.
    """
    table = cast(Table, LocationRolloutRow.__table__)
    with store.session() as session:
        row = session.scalars(select(LocationRolloutRow).where(
            LocationRolloutRow.location_id == location).with_for_update()).first()
        if row is None:
            inserted = session.execute(upsert_statement(store.dialect, table, ["location_id"], []).returning(
                table.c.location_id), {"location_id": location, "wave": wave, "status": status,
                                       "workflow": workflow, "reason": reason, "updated_at": _now()}).scalar()
            if inserted is not None:
                return {"status": None, "workflow": None, "reason": None}
            row = session.scalars(select(LocationRolloutRow).where(
                LocationRolloutRow.location_id == location).with_for_update()).one()
        before = {"status": row.status, "workflow": row.workflow, "reason": row.reason}
        row.status, row.workflow, row.reason, row.updated_at = status, workflow, reason, _now()
        if wave is not None:
            row.wave = wave
        return before


def rollout(store: Any) -> dict[str, dict[str, Any]]:
    with store.session(readonly=True) as session:
        return {r.location_id: {"wave": r.wave, "status": r.status, "workflow": r.workflow, "reason": r.reason}
                for r in session.scalars(select(LocationRolloutRow))}
