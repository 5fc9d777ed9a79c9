"""Daily metric observations as dense arrays: one (locations × days) matrix per metric.

A missing day is NaN. Rates also carry their counts (numerator / denominator), so a gate can
test proportions on counts rather than on averaged percentages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Sample:
    """One daily observation: a location's metric value on a day (rates in percent, with counts)."""

    location: str
    metric: str
    day: date
    value: float
    numerator: float | None = None
    denominator: float | None = None
    source: str = ""


@dataclass(frozen=True)
class MetricSeries:
    values: np.ndarray  # (locations, days) float64, NaN = no observation
    numerator: np.ndarray | None = None  # same shape, counts of a rate (NaN = none)
    denominator: np.ndarray | None = None

    @property
    def has_counts(self) -> bool:
        return self.numerator is not None and self.denominator is not None and bool(
            np.isfinite(self.denominator).any()
        )


@dataclass(frozen=True)
class Observations:
    """Metrics for `locations` on the consecutive days `start` .. `start + days - 1`."""

    locations: tuple[str, ...]
    start: date
    days: int
    metrics: Mapping[str, MetricSeries] = field(default_factory=dict)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def day(self, i: int) -> date:
        return self.start + timedelta(days=i)

    def columns(self, first: date, last: date) -> slice:
        """The day columns inside first..last (clipped to what is observed; may be empty)."""
        lo = max(0, (first - self.start).days)
        hi = min(self.days, (last - self.start).days + 1)
        return slice(lo, max(lo, hi))

    def rows(self, locations: Sequence[str] | None) -> np.ndarray:
        """Row indices of `locations` (all when None); unknown ids are skipped."""
        if locations is None:
            return np.arange(len(self.locations))
        where = {loc: i for i, loc in enumerate(self.locations)}
        return np.array([where[loc] for loc in locations if loc in where], dtype=np.intp)

    @classmethod
    def from_samples(
        cls,
        samples: Iterable[Sample],
        *,
        locations: Sequence[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Observations:
        """Dense arrays from samples; a later sample for the same (location, metric, day) wins."""
        rows = list(samples)
        locs = list(locations) if locations is not None else sorted({s.location for s in rows})
        if not rows and (start is None or end is None):
            today = start or end or date.today()
            return cls(locations=tuple(locs), start=today, days=1, metrics={})
        first = start or min(s.day for s in rows)
        last = end or max(s.day for s in rows)
        n_days = max(1, (last - first).days + 1)
        where = {loc: i for i, loc in enumerate(locs)}
        per_metric: dict[str, list[Sample]] = {}
        for s in rows:
            per_metric.setdefault(s.metric, []).append(s)
        metrics: dict[str, MetricSeries] = {}
        for name, items in per_metric.items():
            vals = np.full((len(locs), n_days), np.nan)
            num = np.full_like(vals, np.nan)
            den = np.full_like(vals, np.nan)
            counted = False
            for s in items:
                r, c = where.get(s.location), (s.day - first).days
                if r is None or not 0 <= c < n_days:
                    continue
                vals[r, c] = s.value
                if s.numerator is not None and s.denominator is not None:
                    num[r, c], den[r, c] = s.numerator, s.denominator
                    counted = True
            metrics[name] = MetricSeries(vals, num if counted else None, den if counted else None)
        return cls(locations=tuple(locs), start=first, days=n_days, metrics=metrics)

    def samples(self) -> list[Sample]:
        """Back to one Sample per observed value (for storing)."""
        out: list[Sample] = []
        for name, series in self.metrics.items():
            rr, cc = np.nonzero(np.isfinite(series.values))
            for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
                num = den = None
                if series.numerator is not None and series.denominator is not None:
                    n, d = series.numerator[r, c], series.denominator[r, c]
                    if np.isfinite(n) and np.isfinite(d):
                        num, den = float(n), float(d)
                out.append(Sample(self.locations[r], name, self.day(c), float(series.values[r, c]), num, den))
        return out
