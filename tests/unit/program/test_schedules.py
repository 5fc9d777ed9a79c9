"""The gates' business-day recurrence (`schedules.Desired`): Mon–Fri at 07:00 in the organization's
time zone, not on its holidays; the RRULE Prefect gets and `runs_on` (what the rehearsal asks)
say the same."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.program.schedules import Desired, business_days

FRIDAY = date(2026, 10, 30)  # US daylight saving time ends on Sunday 2026-11-01
HOLIDAY_MONDAY = date(2026, 11, 2)


def gate(anchor: date = FRIDAY, holidays: tuple[date, ...] = (HOLIDAY_MONDAY,), active: bool = True) -> Desired:
    return business_days("go-no-go-wave1/go-no-go-wave1", "golive-plan-wave1-gate", anchor, 7, "America/Chicago",
                         active, "wave 1", {}, holidays)


def prefect_runs(d: Desired, n: int) -> list[datetime]:
    """The next `n` run times Prefect's own RRuleSchedule computes from the gate's rrule, in UTC."""
    from prefect.client.schemas.schedules import RRuleSchedule

    rule: Any = RRuleSchedule(rrule=str(d.rrule), timezone=d.timezone).to_rrule()
    return [dt.astimezone(UTC) for dt in rule[:n]]


def test_the_gate_skips_weekends_and_holidays_and_keeps_07_00_local_across_dst() -> None:
    runs = prefect_runs(gate(), 3)
    assert runs == [datetime(2026, 10, 30, 12, tzinfo=UTC),  # Friday 07:00 CDT
                    datetime(2026, 11, 3, 13, tzinfo=UTC),  # not the weekend, not the holiday Monday: Tuesday 07:00 CST
                    datetime(2026, 11, 4, 13, tzinfo=UTC)]
    assert [gate().runs_on(FRIDAY + timedelta(days=i)) for i in range(5)] == [True, False, False, False, True]


def test_the_rrule_and_runs_on_agree_over_a_quarter() -> None:
    holidays = (date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 18))
    d = gate(date(2026, 11, 2), holidays)
    runs = {r.astimezone(ZoneInfo(d.timezone)).date() for r in prefect_runs(d, 55)}
    days = [date(2026, 11, 2) + timedelta(days=i) for i in range(80)]
    assert {day for day in days if d.runs_on(day)} == {day for day in runs if day <= days[-1]}
    assert date(2026, 11, 26) not in runs and date(2026, 11, 30) in runs and date(2026, 11, 28) not in runs


def test_only_weekday_holidays_on_or_after_the_anchor_become_exdates() -> None:
    d = gate(FRIDAY, (date(2026, 9, 7), date(2026, 10, 31), HOLIDAY_MONDAY, date(2026, 12, 25)))
    assert d.holidays == (HOLIDAY_MONDAY, date(2026, 12, 25))  # 2026-09-07 is before, 2026-10-31 a Saturday
    assert d.rrule == ("DTSTART:20261030T070000\n"
                       "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=0;BYSECOND=0\n"
                       "EXDATE:20261102T070000,20261225T070000")
    row = d.to_dict()
    assert row["every_s"] is None and row["rrule"] == d.rrule and row["holidays"] == ["2026-11-02", "2026-12-25"]
    assert row["cadence"] == "business days 07:00"
    assert "EXDATE" not in str(gate(holidays=()).rrule)


def test_a_paused_gate_and_a_day_before_the_anchor_do_not_run() -> None:
    assert not gate(active=False).runs_on(date(2026, 11, 3))
    assert not gate().runs_on(FRIDAY - timedelta(days=1))


def test_interval_schedules_run_on_their_interval_from_the_anchor() -> None:
    monday = date(2026, 11, 30)
    weekly = Desired("program-status/program-status", "golive-plan-weekly-status", timedelta(weeks=1), monday, 8,
                     "America/Chicago", True, "weekly")
    hourly = Desired("rollback-watch/rollback-watch", "golive-plan-rollback-watch", timedelta(hours=1), monday, 0,
                     "America/Chicago", True, "hourly")
    week = [monday + timedelta(days=i) for i in range(8)]
    assert [weekly.runs_on(day) for day in week] == [True, False, False, False, False, False, False, True]
    assert all(hourly.runs_on(day) for day in week) and weekly.rrule is None
    assert weekly.to_dict()["every_s"] == 7 * 24 * 3600 and weekly.cadence() == "every 168 h"


def test_too_many_holidays_for_prefects_rrule_limit_is_an_error_naming_them() -> None:
    many = tuple(FRIDAY + timedelta(days=i) for i in range(600))
    with pytest.raises(UserInputError, match=r"holidays: .* Prefect accepts at most 6500"):
        gate(FRIDAY, many)
