"""Display values for people: names instead of ids, units and percentages instead of raw floats."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

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


def location_name(org: Any, location_id: str) -> str:
    if org is None:
        return location_id.replace("-", " ").title()
    for loc in getattr(org, "locations", ()):
        if loc.id == location_id:
            return str(loc.name)
    return location_id.replace("-", " ").title()


def location_names(org: Any, ids: Any) -> list[str]:
    return [location_name(org, str(i)) for i in (ids or ())]


def named(org: Any, text: str) -> str:
    """`text` with every organization location id shown as the location's name: for text people
    read (messages) composed where the organization was not at hand (a reminder, a guard's
    question). An id inside a path or a longer token (`out/k/riverside-ortho/x.pdf`) is kept."""
    if org is None or not text:
        return text
    names = {loc.id: str(loc.name) for loc in getattr(org, "locations", ())}
    if not names:
        return text
    pattern = _ids_pattern(tuple(sorted(names, key=len, reverse=True)))
    return pattern.sub(lambda m: names[m.group(0)], text)


@lru_cache(maxsize=16)
def _ids_pattern(ids: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w/.@:-])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w/@-]|\.\w)")


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
