"""The collection driver: every collector gives, for a day and its locations, one `Outcome` per
(location, metric) it owns — a sample labelled with its source and query, or `missing` with the
reason. A collector that raises makes all its keys of that day missing (the error is the reason).

Outcomes are written per (location, day) in one transaction (`collected.write_day`), so a crash
mid-collection leaves whole location-days, and a rerun replaces them: no duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from golive.tasks.foundation.errors import GoliveError, UserInputError
from golive.tasks.gates import collected
from golive.tasks.gates.collect.calendar import OfficeCalendar
from golive.tasks.gates.collected import Outcome
from golive.tasks.gates.importer import DAILY_METRICS
from golive.tasks.gates.observations import Sample

log = logging.getLogger(__name__)


class Collector(Protocol):
    source: str  # the label stored with every sample and ledger row
    metrics: tuple[str, ...]

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]: ...


def sample(location: str, metric: str, day: date, value: float, source: str, query: str,
           numerator: float | None = None, denominator: float | None = None) -> Outcome:
    return Outcome(location, metric, day, source, query, Sample(location, metric, day, float(value), numerator,
                                                                denominator, source))


def rate(location: str, metric: str, day: date, num: float, den: float, source: str, query: str,
         empty: str) -> Outcome:
    """A percentage from counts; no denominator is a missing day with `empty` as the reason."""
    if den <= 0:
        return Outcome(location, metric, day, source, query, None, empty)
    return sample(location, metric, day, 100.0 * num / den, source, query, float(num), float(den))


def missing(collector: Collector, day: date, locations: Iterable[str], reason: str, query: str = "", *,
            failed: bool = False) -> list[Outcome]:
    """No sample for these keys; `failed` when the source failed (a closed day does not excuse it)."""
    return [Outcome(loc, m, day, collector.source, query, None, reason, failed=failed)
            for loc in locations for m in collector.metrics]


@dataclass
class DayReport:
    day: date
    written: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # source -> the error that made its keys missing
    closed: int = 0  # keys without data on a closed office day (not gaps)


def check_collectors(collectors: Sequence[Collector]) -> None:
    owner: dict[str, str] = {}
    for c in collectors:
        for m in c.metrics:
            if m not in DAILY_METRICS:
                raise UserInputError(f"collector {c.source}: unknown metric {m!r}")
            if m in owner:
                raise UserInputError(f"metric {m} is collected by both {owner[m]} and {c.source}; pick one source")
            owner[m] = c.source


def collect_day(store: Any, collectors: Sequence[Collector], day: date, locations: Sequence[str], *,
                run_id: str | None = None, calendars: Mapping[str, OfficeCalendar] | None = None,
                before_write: Callable[[str], None] | None = None) -> DayReport:
    """Collect `day` from every collector, then write each location's outcomes in one transaction.

    With `calendars`, a key without data at a location closed that day is recorded `closed`, not
    missing; a source that FAILED stays missing (nobody knows what it would have said).
    `before_write(location)` runs before each location's transaction (fault injection in tests).
    """
    report = DayReport(day)
    outcomes: list[Outcome] = []
    closed = {loc: why for loc in locations if calendars and loc in calendars
              and (why := calendars[loc].closed(day)) is not None}
    for c in collectors:
        try:
            got = c.collect(day, locations)
        except GoliveError as exc:
            report.errors[c.source] = str(exc)
            got = missing(c, day, locations, str(exc), failed=True)
            log.warning("metrics source %s failed for %s: %s", c.source, day, exc)
        expected = {(loc, m) for loc in locations for m in c.metrics}
        have = {(o.location, o.metric) for o in got}
        got = [o for o in got if (o.location, o.metric) in expected]
        if not getattr(c, "periodic", False):  # a daily source owes every key; a survey does not
            got += [Outcome(loc, m, day, c.source, "", None, "the source returned nothing for it")
                    for loc, m in sorted(expected - have)]
        if closed:
            got = [o.as_closed(closed[o.location]) if o.sample is None and not o.failed and o.location in closed else o
                   for o in got]
        outcomes += got
    for loc in locations:
        mine = [o for o in outcomes if o.location == loc]
        if before_write is not None:
            before_write(loc)
        report.written += collected.write_day(store, mine, run_id=run_id)
        report.missing += [{"location": o.location, "metric": o.metric, "day": o.day.isoformat(),
                            "source": o.source, "reason": o.reason} for o in mine if o.status == collected.MISSING]
        report.closed += sum(1 for o in mine if o.status == collected.CLOSED)
    return report


def days(first: date, last: date) -> list[date]:
    if last < first:
        raise UserInputError(f"collection period ends ({last}) before it starts ({first})")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
