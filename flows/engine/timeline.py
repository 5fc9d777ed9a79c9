"""A run's day on the program's timeline: what its documents are dated and its due dates count from.

The run's real start (`RunContext.started`, the program clock) stays the run's time: a DOCX's
`created` property, the audit log, step times. Cover dates, "as of" dates and due dates instead
follow the plan, so a rehearsal or a demo replaying a past (or future) plan writes documents that
agree with one another and with the calendar. Computed once per run, here:

1. an explicit date: the run's `as_of` parameter, else the parameter its runbook names in
   `metadata.timeline` (readiness-assessment: `start`, the rollout start it plans from);
2. the stored plan (program_phases): the phase this run belongs to (the `wave` parameter's wave,
   else the wave of the `location` parameter's location, else `metadata.phase`). A run inside
   that phase's days is on its own start day (a late wave's weeks slip with it); a run before the
   phase, or after it ended (a rehearsal, a demo or a back-fill of the plan), is on the phase's
   first day;
3. otherwise the run's start day in the organization's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from golive.flows.engine.dues import run_day
from golive.flows.engine.model import Runbook
from golive.tasks.foundation.errors import UserInputError


@dataclass(frozen=True)
class Timeline:
    day: date
    source: str  # why this day, for the audit log and people reading a date


def explicit_day(book: Runbook, params: dict[str, Any]) -> Timeline | None:
    """The day the run's parameters give (rule 1), None without one; a value that is no date is refused."""
    for name in (book.metadata.timeline, "as_of"):  # the runbook's own dating parameter first
        value = params.get(name) if name else None
        if value in (None, ""):
            continue
        try:
            return Timeline(date.fromisoformat(str(value)[:10]), f"the run's {name} parameter")
        except ValueError:
            raise UserInputError(f"parameter '{name}': not a date (YYYY-MM-DD): {value!r}") from None
    return None


def _phase_name(book: Runbook, params: dict[str, Any], store: Any) -> str | None:
    if params.get("wave") not in (None, ""):
        return f"wave-{int(params['wave'])}"
    location = params.get("location")
    if isinstance(location, str) and location and store is not None:
        from golive.tasks.program import repository

        where = repository.locations(store).get(location)
        if where is not None and where.wave is not None:
            return f"wave-{where.wave}"
    return book.metadata.phase


def for_run(book: Runbook, params: dict[str, Any], store: Any, org: Any, started: datetime) -> Timeline:
    explicit = explicit_day(book, params)
    if explicit is not None:
        return explicit
    today = run_day(started, org)
    phase_name = _phase_name(book, params, store)
    if phase_name and store is not None:
        from golive.tasks.program import repository

        phase = repository.phases(store).get(phase_name)
        if phase is not None:
            if phase.starts_on <= today <= phase.ends_on:
                return Timeline(today, f"run start, inside the plan's {phase_name}")
            return Timeline(phase.starts_on, f"the plan's {phase_name}, starting {phase.starts_on.isoformat()}")
    return Timeline(today, "run start")
