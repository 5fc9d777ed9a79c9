"""The collection ledger: what each collector found per (location, metric, day), written together
with the samples in one transaction.

Re-collecting a day replaces it: the ledger row and the sample of that key go, the new ones come,
all in one transaction per location and day, so a crash mid-collection leaves either the old day
or the new one, never both (no duplicates on rerun). A missing day is a ledger row with status
`missing` and no sample; the gate reads these rows (`gaps`) and will not pass on fewer days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete, select

from golive.tasks.gates.observations import Sample
from golive.tasks.gates.records import DailyMetricRow, MetricCollectionRow
from golive.tasks.gates.repository import where_daily


class KeyStatus(str, Enum):
    """A ledger row's status: a sample, a gap the gate must not pass over, or a closed office day."""

    OK = "ok"
    MISSING = "missing"
    CLOSED = "closed"


OK, MISSING, CLOSED = KeyStatus.OK.value, KeyStatus.MISSING.value, KeyStatus.CLOSED.value


@dataclass(frozen=True)
class Outcome:
    """One collector's result for a key: a sample, or the reason there is none."""

    location: str
    metric: str
    day: date
    source: str
    query: str
    sample: Sample | None = None
    reason: str | None = None
    closed: bool = False  # no sample because the office was closed that day (not a gap)
    failed: bool = False  # no sample because the source failed (never read as a closed day)

    @property
    def status(self) -> str:
        if self.sample is not None:
            return OK
        return CLOSED if self.closed else MISSING

    def as_closed(self, why: str) -> Outcome:
        return replace(self, closed=True, reason=f"{why} ({self.reason})" if self.reason else why)


def write_day(store: Any, outcomes: Sequence[Outcome], *, run_id: str | None = None) -> int:
    """Replace the given keys' ledger rows and samples in ONE transaction; returns samples written.

    Per (location, day): the earlier samples of these metrics from the sources that produced them
    (the ledger says which) or produce them now are deleted with the ledger rows, then the new
    rows go in. Samples of other sources (a CSV import under its own name) are left alone.
    """
    now = datetime.now(UTC)
    groups: dict[tuple[str, date], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.location, o.day), []).append(o)
    written = 0
    with store.session() as session:
        for (loc, day), items in groups.items():
            metrics = sorted({o.metric for o in items})
            where = (MetricCollectionRow.location_id == loc, MetricCollectionRow.day == day,
                     MetricCollectionRow.metric.in_(metrics))
            before = session.execute(select(MetricCollectionRow.metric, MetricCollectionRow.source).where(*where)).all()
            owned = {(m, src) for m, src in before} | {(o.metric, o.source) for o in items}
            for src in sorted({src for _m, src in owned}):
                session.execute(delete(DailyMetricRow).where(
                    DailyMetricRow.location_id == loc, DailyMetricRow.day == day, DailyMetricRow.source == src,
                    DailyMetricRow.metric.in_(sorted(m for m, s in owned if s == src))))
            session.execute(delete(MetricCollectionRow).where(*where))
            session.flush()
            session.add_all(MetricCollectionRow(location_id=o.location, metric=o.metric, day=o.day, status=o.status,
                                                source=o.source, query=o.query[:500],
                                                reason=None if o.reason is None else o.reason[:500],
                                                run_id=run_id, collected_at=now) for o in items)
            fresh = [o.sample for o in items if o.sample is not None]
            session.add_all(DailyMetricRow(location_id=loc, metric=s.metric, day=day, value=s.value,
                                           numerator=s.numerator, denominator=s.denominator, source=s.source)
                            for s in fresh)
            written += len(fresh)
    return written


def gaps(store: Any, *, locations: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
         start: date | None = None, end: date | None = None) -> list[tuple[str, str, date, str, str]]:
    """(location, metric, day, source, reason) of every key recorded missing."""
    q = where_daily(select(MetricCollectionRow).where(MetricCollectionRow.status == MISSING), MetricCollectionRow,
                    locations, metrics, start, end)
    with store.session(readonly=True) as session:
        return [(r.location_id, r.metric, r.day, r.source, r.reason or "")
                for r in session.scalars(q.order_by(MetricCollectionRow.day, MetricCollectionRow.location_id))]


def status(store: Any, *, locations: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per location and metric: last day collected, its source and query, the missing days and how
    many days the office was closed."""
    q = select(MetricCollectionRow)
    if locations is not None:
        q = q.where(MetricCollectionRow.location_id.in_(list(locations)))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with store.session(readonly=True) as session:
        for r in session.scalars(q.order_by(MetricCollectionRow.day)):
            row = out.setdefault((r.location_id, r.metric), {
                "location": r.location_id, "metric": r.metric, "last_day": None, "source": None, "query": None,
                "collected_days": 0, "missing_days": [], "closed_days": 0})
            if r.status == OK:
                row.update(last_day=r.day.isoformat(), source=r.source, query=r.query)
                row["collected_days"] += 1
            elif r.status == CLOSED:
                row["closed_days"] += 1
            else:
                row["missing_days"].append(r.day.isoformat())
    return [out[k] for k in sorted(out)]


def ledger(store: Any) -> list[dict[str, Any]]:
    """Every ledger row (tests, reports)."""
    with store.session(readonly=True) as session:
        return [{"location": r.location_id, "metric": r.metric, "day": r.day, "status": r.status,
                 "source": r.source, "query": r.query, "reason": r.reason}
                for r in session.scalars(select(MetricCollectionRow).order_by(MetricCollectionRow.id))]
