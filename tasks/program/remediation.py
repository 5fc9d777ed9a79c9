"""A deferred location's remediation plan from the readiness assessment's fixes: one item per
factor (factor, action, owner, due). Owners follow the playbook's owners for each factor; the due
date is a business day a fixed number of weeks after the plan's start, so it is never before it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from golive.tasks.program.slots import is_business_day

OWNERS = {  # readiness factor label -> who owns fixing it
    "Local Champion Availability": "Regional Manager",
    "IT Infrastructure Maturity": "VP of IT",
    "Staff Tenure and Adaptability": "Regional Manager",
    "Existing Tech Stack Compatibility": "VP of IT",
    "Patient Volume Impact": "VP of Ops",
}
WEEKS = 8  # remediation window before re-assessment (playbook: deferred sites join a later wave)


def due_day(start: date, weeks: int = WEEKS, holidays: frozenset[date] = frozenset()) -> date:
    day = start + timedelta(weeks=weeks)
    while not is_business_day(day, holidays):
        day += timedelta(days=1)
    return day


def plan(fixes: Iterable[str], start: date, holidays: frozenset[date] = frozenset()) -> list[dict[str, Any]]:
    due = due_day(start, holidays=holidays).isoformat()
    out = []
    for text in fixes:
        text = str(text)
        if text.startswith("collect data"):
            factor, owner = "data", "VP of Ops"
        else:
            factor = next((f for f in OWNERS if text.startswith(f)), text.split(" ", 1)[0])
            owner = OWNERS.get(factor, "VP of Ops")
        out.append({"factor": factor, "action": text, "owner": owner, "due": due})
    return out
