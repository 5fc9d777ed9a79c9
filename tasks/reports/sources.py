"""What the audience packs read from the store, read only: per-location metric summaries over the
measured period, the latest integration-validation run per location (its steps' states), the
lifecycle and go-live days, and the technical checks and compliance status of their own areas.

The period is the stored data's, never the wall clock: a pack "as of" the last measured day agrees
with the gate memos and the ROI report computed over the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from golive.tasks.gates.records import DailyMetricRow
from golive.tasks.gates.repository import load_observations
from golive.tasks.store.models import RunRow, StepResultRow

PERIOD_DAYS = 28  # the gates' four-week window
VALIDATION_RUNBOOK = "integration-validation"

# How a per-location summary is formed from daily values: last 7 days' mean, period mean/sum, last value.
SUMMARY = {
    "adoption_pct": "last7", "uptime_pct": "mean", "case_acceptance_pct": "rate", "support_tickets": "sum",
    "training_completion_pct": "last", "training_hours": "sum", "critical_clinical_errors": "sum",
    "providers_refusing_pct": "last", "critical_bugs_open": "last", "champion_ready": "last",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def measured_period(store: Any, locations: Sequence[str], *, end: date | None = None,
                    days: int = PERIOD_DAYS) -> Period | None:
    """The `days` ending on `end` (default: the last stored day for these locations); None without data."""
    if end is None:
        with store.session(readonly=True) as s:
            end = s.execute(select(func.max(DailyMetricRow.day)).where(
                DailyMetricRow.location_id.in_(list(locations)))).scalar()
        if end is None:
            return None
    return Period(end - timedelta(days=days - 1), end)


def metric_summary(store: Any, locations: Sequence[str], period: Period) -> dict[str, dict[str, float | None]]:
    """{location: {metric: value or None}} over `period` (None: not measured there)."""
    obs = load_observations(store, locations=list(locations), metrics=list(SUMMARY), start=period.start, end=period.end)
    out: dict[str, dict[str, float | None]] = {loc: {} for loc in locations}
    for metric, how in SUMMARY.items():
        series = obs.metrics.get(metric)
        for i, loc in enumerate(obs.locations):
            out[loc][metric] = None if series is None else _summarise(series, i, how)
    return out


def _summarise(series: Any, row: int, how: str) -> float | None:
    vals = series.values[row]
    seen = np.isfinite(vals)
    if not seen.any():
        return None
    if how == "sum":
        return float(np.nansum(vals))
    if how == "last":
        return float(vals[seen][-1])
    if how == "last7":
        return float(np.mean(vals[seen][-7:]))
    if how == "rate" and series.numerator is not None and series.denominator is not None:
        den = float(np.nansum(series.denominator[row]))
        if den > 0:
            return 100.0 * float(np.nansum(series.numerator[row])) / den
    return float(np.mean(vals[seen]))


def weekly_means(store: Any, locations: Sequence[str], metric: str, start: date, end: date) -> list[tuple[date, float]]:
    """(week start, mean over locations and days) for each week in [start, end] with data."""
    obs = load_observations(store, locations=list(locations), metrics=[metric], start=start, end=end)
    series = obs.metrics.get(metric)
    if series is None:
        return []
    out = []
    for first in range(0, obs.days, 7):
        block = series.values[:, first:first + 7]
        if np.isfinite(block).any():
            out.append((obs.day(first), float(np.nanmean(block))))
    return out


@dataclass(frozen=True)
class Validation:
    """The latest integration-validation run of one location: each step's state and first error line."""
    location: str
    run_key: str
    started: date
    run_state: str
    steps: dict[str, tuple[str, str]] = field(default_factory=dict)  # step id -> (state, error or "")

    def group(self, prefix: Sequence[str]) -> tuple[str, list[str]]:
        """("passed" | "failed" | "incomplete" | "not run", failing step ids) over steps starting with a prefix."""
        mine = {k: v for k, v in self.steps.items() if k.startswith(tuple(prefix))}
        if not mine:
            return "not run", []
        failed = sorted(k for k, (st, _) in mine.items() if st == "failed")
        if failed:
            return "failed", failed
        if all(st in ("completed", "cached") for st, _ in mine.values()):
            return "passed", []
        return "incomplete", sorted(k for k, (st, _) in mine.items() if st not in ("completed", "cached"))


def latest_validations(store: Any, locations: Sequence[str]) -> dict[str, Validation]:
    wanted = set(locations)
    with store.session(readonly=True) as s:
        runs = s.execute(select(RunRow).where(RunRow.runbook == VALIDATION_RUNBOOK)
                         .order_by(RunRow.started_at)).scalars().all()
        newest: dict[str, RunRow] = {}
        for r in runs:
            loc = str((r.parameters or {}).get("location", ""))
            if loc in wanted:
                newest[loc] = r
        out: dict[str, Validation] = {}
        for loc, r in newest.items():
            steps: dict[str, tuple[str, str]] = {}
            for row in s.execute(select(StepResultRow).where(StepResultRow.run_id == r.run_id)
                                 .order_by(StepResultRow.id)).scalars():
                sid = row.step_id
                state, error = row.state, (row.error or "").strip().splitlines()[0][:200] if row.error else ""
                if sid in steps and steps[sid][0] == "failed":  # a fan-out step fails if one item failed
                    continue
                steps[sid] = (state, error)
            out[loc] = Validation(loc, r.run_key, r.started_at.date(), r.state, steps)
    return out


def planned_go_lives(store: Any) -> dict[str, date]:
    """{location: planned go-live day} from the latest completed readiness-assessment calendar step
    (the stored plan's dates for locations that have not gone live yet)."""
    with store.session(readonly=True) as s:
        row = s.execute(select(StepResultRow).join(RunRow, RunRow.run_id == StepResultRow.run_id)
                        .where(RunRow.runbook == "readiness-assessment", StepResultRow.step_id == "calendar",
                               StepResultRow.state.in_(("completed", "cached")))
                        .order_by(StepResultRow.id.desc()).limit(1)).scalar_one_or_none()
        rows = list((row.outputs or {}).get("go_lives") or []) if row is not None else []
    return {str(g["id"]): date.fromisoformat(str(g["date"])) for g in rows if g.get("id") and g.get("date")}
