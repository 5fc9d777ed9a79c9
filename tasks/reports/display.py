"""Display values for people: names instead of ids, units and percentages instead of raw floats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# Location names live in foundation (notify and the engine's filters use them too); shown from here.
from golive.tasks.foundation.names import location_name as location_name
from golive.tasks.foundation.names import location_names as location_names
from golive.tasks.foundation.names import named as named

# Units of the metrics the playbook's criteria and baselines use (metric id -> unit kind).
PERCENT_METRICS = frozenset({
    "uptime_pct", "adoption_pct", "training_completion_pct", "case_acceptance_pct", "refusal_pct",
    "ai_agreement_pct", "availability_pct",
})
METRIC_NAMES = {
    "uptime_pct": "system uptime", "critical_bugs_open": "open critical bugs",
    "training_completion_pct": "staff training completion", "adoption_pct": "provider adoption",
    "case_acceptance_pct": "case acceptance", "champion_ready": "champion ready to recommend",
    "planning_minutes": "treatment planning time", "tickets_open": "open support tickets",
}
OPS = {">": "above", ">=": "at least", "<": "below", "<=": "at most", "==": "exactly", "!=": "not"}


def region_name(org: Any, region_id: str | None) -> str:
    for r in getattr(org, "regions", ()) if org is not None else ():
        if r.id == region_id:
            return str(r.name)
    return (region_id or "").replace("-", " ").title()


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric.replace("_pct", "").replace("_", " "))


def value(metric: str, v: float | None, *, signed: bool = False) -> str:
    """A measured value with its unit: 97.84% , 3 , yes/no for flags."""
    if v is None:
        return "no data"
    if metric in PERCENT_METRICS or metric.endswith("_pct"):
        return f"{v:+.1f} pts" if signed else f"{v:.1f}%"
    if metric == "champion_ready":
        return "yes" if v >= 1 else "no"
    if float(v).is_integer():
        return f"{int(v):+d}" if signed else f"{int(v)}"
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def threshold(metric: str, op: str | None, v: float | None) -> str:
    if op is None or v is None:
        return ""
    return f"{OPS.get(op, op)} {value(metric, v)}"


def day(d: str | date | datetime | None) -> str:
    """'26 April 2026' (unambiguous in every locale)."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return f"{d.day} {d:%B %Y}"


def days_between(first: str | None, last: str | None) -> int | None:
    if not first or not last:
        return None
    return (date.fromisoformat(last[:10]) - date.fromisoformat(first[:10])).days + 1
