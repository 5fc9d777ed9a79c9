"""Reading and writing the gate tables through the shared `Store` (SQLite or PostgreSQL).

Every write touches only the rows of the locations it is given: a rollback for one location
never changes another location's metrics, samples or status (the isolation protocol).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select

from golive.tasks.gates.observations import Observations, Sample
from golive.tasks.gates.records import (
    AvailabilitySampleRow,
    DailyMetricRow,
    GateVerdictRow,
    LocationRolloutRow,
    RollbackRow,
)
from golive.tasks.gates.verdict import Verdict


def _now() -> datetime:
    return datetime.now(UTC)


def save_samples(store: Any, samples: Iterable[Sample], source: str) -> int:
    """Replace the stored days of each (location, metric) given, for `source`; returns rows written."""
    rows = list(samples)
    if not rows:
        return 0
    spans: dict[tuple[str, str], tuple[date, date]] = {}
    for s in rows:
        lo, hi = spans.get((s.location, s.metric), (s.day, s.day))
        spans[(s.location, s.metric)] = (min(lo, s.day), max(hi, s.day))
    with store.session() as session:
        for (loc, metric), (lo, hi) in spans.items():
            session.execute(delete(DailyMetricRow).where(
                DailyMetricRow.location_id == loc, DailyMetricRow.metric == metric,
                DailyMetricRow.source == source, DailyMetricRow.day >= lo, DailyMetricRow.day <= hi))
        session.add_all(
            DailyMetricRow(location_id=s.location, metric=s.metric, day=s.day, value=s.value,
                           numerator=s.numerator, denominator=s.denominator, source=source)
            for s in rows
        )
    return len(rows)


def load_observations(store: Any, *, locations: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
                      start: date | None = None, end: date | None = None,
                      extra: Sequence[Sample] = ()) -> Observations:
    """Stored daily metrics as dense arrays (a later source in name order wins on the same day)."""
    q = select(DailyMetricRow)
    if locations is not None:
        q = q.where(DailyMetricRow.location_id.in_(list(locations)))
    if metrics is not None:
        q = q.where(DailyMetricRow.metric.in_(list(metrics)))
    if start is not None:
        q = q.where(DailyMetricRow.day >= start)
    if end is not None:
        q = q.where(DailyMetricRow.day <= end)
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
    """(id, created): an already open rollback for the location is returned, not duplicated."""
    with store.session() as session:
        existing = session.scalars(select(RollbackRow).where(
            RollbackRow.location_id == location, RollbackRow.state == "open")).first()
        if existing is not None:
            return int(existing.id), False
        row = RollbackRow(location_id=location, reason=reason, triggers=list(triggers), triggered_at=triggered_at,
                          state="open", run_id=run_id)
        session.add(row)
        session.flush()
        return int(row.id), True


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
    """Set one location's rollout status; returns the previous one (for undo)."""
    with store.session() as session:
        row = session.get(LocationRolloutRow, location)
        before = {"status": None, "workflow": None, "reason": None} if row is None else {
            "status": row.status, "workflow": row.workflow, "reason": row.reason}
        if row is None:
            row = LocationRolloutRow(location_id=location, wave=wave, status=status, workflow=workflow,
                                     reason=reason, updated_at=_now())
            session.add(row)
        else:
            row.status, row.workflow, row.reason, row.updated_at = status, workflow, reason, _now()
            if wave is not None:
                row.wave = wave
        return before


def rollout(store: Any) -> dict[str, dict[str, Any]]:
    with store.session(readonly=True) as session:
        return {r.location_id: {"wave": r.wave, "status": r.status, "workflow": r.workflow, "reason": r.reason}
                for r in session.scalars(select(LocationRolloutRow))}
