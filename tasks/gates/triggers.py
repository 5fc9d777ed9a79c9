"""The playbook's four rollback triggers, checked per location over recent daily metrics.

1. availability (`uptime_pct`) below 95% for more than 2 consecutive days;
2. a critical clinical error reported (`critical_clinical_errors` > 0: misdiagnosis, patient safety);
3. more than 50% of providers refuse the system after training (`providers_refusing_pct`; the
   playbook says "50% of providers refuse", the issue "> 50%": the operator is configurable);
4. an integration failure with data loss or corruption (`data_loss_incidents` > 0).

Each hit names its location and the day the condition became true, which is when the rollback's
deadlines (2 h, 24 h, 1 week) start. Only the locations hit are affected; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from golive.tasks.gates.criteria import Op
from golive.tasks.gates.evaluate import compare
from golive.tasks.gates.observations import Observations

AVAILABILITY, CLINICAL, REFUSAL, DATA_LOSS = "availability", "critical_clinical_error", "provider_refusal", "data_loss"


@dataclass(frozen=True)
class TriggerRules:
    availability_metric: str = "uptime_pct"
    availability_below: float = 95.0
    availability_max_days: int = 2  # fires when below for MORE than this many consecutive days
    clinical_metric: str = "critical_clinical_errors"
    refusal_metric: str = "providers_refusing_pct"
    refusal_op: Op = Op.GT
    refusal_pct: float = 50.0
    data_loss_metric: str = "data_loss_incidents"
    window_days: int = 14


@dataclass(frozen=True)
class TriggerHit:
    location: str
    trigger: str
    day: date  # the day the condition became true
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "trigger": self.trigger, "day": self.day.isoformat(),
                "detail": self.detail, **self.evidence}


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Column of the first True per row, −1 where none."""
    if mask.shape[1] == 0:  # no day in the window yet (a daily gate on go-live day reads the day before)
        return np.full(mask.shape[0], -1)
    any_true = mask.any(axis=1)
    return np.where(any_true, np.argmax(mask, axis=1), -1)


def check(obs: Observations, rules: TriggerRules = TriggerRules(), *, as_of: date | None = None,
          locations: Sequence[str] | None = None, since: date | None = None) -> tuple[TriggerHit, ...]:
    """Every trigger hit in the last `window_days` days up to `as_of`, for `locations` (default all),
    and not before `since` (a gate's period start: a location rolled back and re-scheduled into a
    later wave is not rolled back again for its earlier outage)."""
    last = as_of or obs.end
    first = last - timedelta(days=rules.window_days - 1)
    if since is not None:
        first = max(first, since)
    cols = obs.columns(first, last)
    rows = obs.rows(locations)
    offset = cols.start
    hits: list[TriggerHit] = []

    series = obs.metrics.get(rules.availability_metric)
    if series is not None:
        vals = series.values[rows, cols]
        below = compare(vals, Op.LT, rules.availability_below) & np.isfinite(vals)
        idx = np.broadcast_to(np.arange(1, vals.shape[1] + 1), vals.shape)
        last_break = np.maximum.accumulate(np.where(below, 0, idx), axis=1) if vals.shape[1] else idx
        run = np.where(below, idx - last_break, 0)
        fired = _first_true(run > rules.availability_max_days)
        for i, c in enumerate(fired.tolist()):
            if c < 0:
                continue
            start_c = c - int(run[i, c]) + 1
            days_below = int(run[i].max())
            hits.append(TriggerHit(
                obs.locations[rows[i]], AVAILABILITY, obs.day(offset + c),
                f"availability below {rules.availability_below:g}% for {days_below} consecutive days "
                f"from {obs.day(offset + start_c)} (limit {rules.availability_max_days})",
                {"consecutive_days": days_below, "since": obs.day(offset + start_c).isoformat(),
                 "lowest_pct": float(np.nanmin(vals[i][below[i]]))},
            ))

    for trigger, metric, text in ((CLINICAL, rules.clinical_metric, "critical clinical error(s) reported"),
                                  (DATA_LOSS, rules.data_loss_metric, "integration failure(s) with data loss or corruption")):
        series = obs.metrics.get(metric)
        if series is None:
            continue
        vals = series.values[rows, cols]
        positive = np.nan_to_num(vals) > 0
        for i, c in enumerate(_first_true(positive).tolist()):
            if c >= 0:
                total = int(np.nansum(vals[i]))
                hits.append(TriggerHit(obs.locations[rows[i]], trigger, obs.day(offset + c),
                                       f"{total} {text} since {obs.day(offset + c)}", {"count": total}))

    series = obs.metrics.get(rules.refusal_metric)
    if series is not None:
        vals = series.values[rows, cols]
        refusing = compare(vals, rules.refusal_op, rules.refusal_pct) & np.isfinite(vals)
        for i, c in enumerate(_first_true(refusing).tolist()):
            if c >= 0:
                latest = vals[i][np.isfinite(vals[i])][-1]
                hits.append(TriggerHit(
                    obs.locations[rows[i]], REFUSAL, obs.day(offset + c),
                    f"{latest:.0f}% of providers refuse the system after training "
                    f"(trigger {rules.refusal_op.value} {rules.refusal_pct:g}%)",
                    {"refusing_pct": float(latest)},
                ))
    return tuple(sorted(hits, key=lambda h: (h.location, h.day, h.trigger)))


def affected(hits: Sequence[TriggerHit]) -> list[dict[str, Any]]:
    """One entry per affected location: its triggers, the earliest trigger day and a reason line."""
    by_loc: dict[str, list[TriggerHit]] = {}
    for h in hits:
        by_loc.setdefault(h.location, []).append(h)
    out = []
    for loc in sorted(by_loc):
        hs = sorted(by_loc[loc], key=lambda h: h.day)
        out.append({"location": loc, "triggers": sorted({h.trigger for h in hs}), "triggered_on": hs[0].day.isoformat(),
                    "reason": "; ".join(h.detail for h in hs)})
    return out
