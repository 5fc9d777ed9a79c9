"""Due dates on a business-day calendar: `week W day D` of a runbook's timeline as a day.

A runbook writes its due dates on one timeline (`wave-go-live`: the pilot's four weeks, week 1
configuration and champion training, week 2 staff training and parallel run, week 3 go-live,
week 4 stabilization). A run counts them from its calendar's `start` (never before the run's own
start), maps each timeline week onto the calendar's week (`weeks`: wave 2 trains for two weeks and
goes live in its fourth), and moves a due date that falls on a weekend or holiday to the next
business day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from golive.tasks.foundation.durations import Due, parse_due


@dataclass(frozen=True)
class DueCalendar:
    start: date  # day 1 of week 1
    holidays: frozenset[date] = frozenset()
    weeks: tuple[int, ...] = ()  # weeks[i]: this calendar's week for timeline week i + 1; empty: the same
    source: str = "run start"  # where `start` and `weeks` came from, for people reading a due date

    def week(self, timeline_week: int) -> int:
        if not self.weeks:
            return timeline_week
        if timeline_week <= len(self.weeks):
            return self.weeks[timeline_week - 1]
        return self.weeks[-1] + timeline_week - len(self.weeks)

    def day(self, due: Due | str) -> date:
        """The business day a due date falls on (never before `start`)."""
        offset = (parse_due(due) if isinstance(due, str) else due).days
        week, day_in_week = offset // 7 + 1, offset % 7
        when = self.start + timedelta(days=(self.week(week) - 1) * 7 + day_in_week)
        while when.weekday() >= 5 or when in self.holidays:
            when += timedelta(days=1)
        return when
