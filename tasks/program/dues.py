"""Each wave's due dates on its own calendar (the stored plan), not the pilot's.

`wave-go-live` writes its due dates on the pilot's four-week timeline: week 1 configuration and
champion training, week 2 staff training and parallel run, week 3 go-live, week 4 stabilization
and debrief. A wave's stored phase (program_phases, from the readiness assessment's calendar) says
where those fall for that wave: its first week, the week of its first go-live, its last week. Wave
2 trains for two weeks and goes live in its fourth (playbook: weeks 7, 8-9, 10, 11-12); wave 3
prepares for a week and goes live in its second. The timeline maps onto them:

    timeline week 1 -> the wave's week 1
    timeline week 2 -> the week before its first go-live (training ends, parallel run)
    timeline week 3 -> the week of its first go-live
    timeline week 4 -> its last week (stabilization and debrief); later weeks follow it

Counting starts at the wave's planned start, or at the run's start when the run began later (the
wave slipped: its weeks slip with it), so no due date is ever before the run's start.
"""

from __future__ import annotations

from datetime import date, timedelta

from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.program.repository import PlannedPhase

# week of the first go-live when the stored phase has none yet, and each wave's shortest length in
# weeks (tasks/planning/calendar.py: the playbook's timeline)
GO_LIVE_WEEK = {1: 3, 2: 4, 3: 2}
MIN_WEEKS = {1: 4, 2: 6, 3: 4}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(start: date, day: date) -> int:
    return (_monday(day) - _monday(start)).days // 7 + 1


def wave_weeks(phase: PlannedPhase) -> tuple[int, ...]:
    """The wave's week for each of the timeline's four weeks."""
    go_live = _week(phase.starts_on, phase.first_go_live) if phase.first_go_live else GO_LIVE_WEEK.get(phase.wave or 1, 3)
    last = max(go_live, _week(phase.starts_on, phase.ends_on))
    return (1, max(1, go_live - 1), go_live, last)


def wave_calendar(phase: PlannedPhase, run_day: date, holidays: frozenset[date] = frozenset()) -> DueCalendar:
    start = max(phase.starts_on, run_day)
    why = f"wave {phase.wave} plan, starting {phase.starts_on.isoformat()}"
    if start > phase.starts_on:
        why += f"; the run started later, {run_day.isoformat()}"
    return DueCalendar(start, holidays, wave_weeks(phase), why)


def default_phase(wave: int, start: date) -> PlannedPhase:
    """A wave's phase from its start alone (no stored plan): the calendar's shortest timeline."""
    weeks = MIN_WEEKS.get(wave, 4)
    end = _monday(start) + timedelta(weeks=weeks - 1, days=4)
    return PlannedPhase(f"wave-{wave}", wave, start, None, end)
