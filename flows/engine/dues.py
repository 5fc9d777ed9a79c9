"""The due-date calendar of one run: from the run's day on the program's timeline, or (a runbook with
`metadata.due_calendar: wave`) from its wave's stored plan (golive.tasks.program.dues)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from golive.flows.engine.model import Runbook
from golive.tasks.foundation.dues import DueCalendar


def run_day(started: datetime, org: Any) -> date:
    """The run's start day in the organization's time zone."""
    tz = getattr(org, "timezone", None)
    return started.astimezone(ZoneInfo(tz)).date() if tz else started.date()


def for_run(book: Runbook, params: dict[str, Any], store: Any, org: Any, started: datetime,
            day: date | None = None) -> DueCalendar:
    """`day`: the run's day on the program's timeline (flows/engine/timeline.py); default its start day."""
    from golive.tasks.program import dues, repository

    day = day or run_day(started, org)
    holidays = frozenset(getattr(org, "holiday_days", frozenset()))
    if book.metadata.due_calendar != "wave" or params.get("wave") in (None, ""):
        return DueCalendar(day, holidays)
    wave = int(params["wave"])
    phase = repository.phases(store).get(f"wave-{wave}") if store is not None else None
    if phase is not None:
        return dues.wave_calendar(phase, day, holidays)
    planned = params.get("start_date")  # no stored plan: the wave's start as the run was given it
    try:
        start = date.fromisoformat(str(planned)[:10]) if planned else day
    except ValueError:
        start = day
    fallback = dues.wave_calendar(dues.default_phase(wave, start), day, holidays)
    return DueCalendar(fallback.start, holidays, fallback.weeks,
                       f"{fallback.source} (no stored plan: the run's start_date)")
