"""A timeline started on a weekend: week 1 is the following week, so no week-1 due date falls
before the start (the issue's Sunday bug: baseline deadline two days before the run started)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from golive.tasks.planning import calendar as cal


def test_a_sunday_start_gets_the_next_friday() -> None:
    sunday = date(2026, 11, 29)
    assert cal.week_end(sunday, 1) == date(2026, 12, 4)
    assert cal.week_start(sunday, 1) == date(2026, 11, 30)
    assert cal.week_number(sunday, date(2026, 12, 2)) == 1


def test_a_weekday_start_keeps_its_own_week() -> None:
    wednesday = date(2026, 12, 2)
    assert cal.week_start(wednesday, 1) == date(2026, 11, 30) and cal.week_end(wednesday, 1) == date(2026, 12, 4)


@settings(max_examples=60)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 30))
def test_no_week_end_before_the_start(start: date, week: int) -> None:
    assert cal.week_end(start, week) >= start
    assert cal.week_end(start, week) - cal.week_start(start, week) == timedelta(days=4)
