"""Each wave's due dates on its own calendar: the stored plan's weeks, business days only, never
before the run's start (the issue: wave 2 and 3 steps got the pilot's due dates)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.foundation.durations import parse_due
from golive.tasks.planning import calendar as cal
from golive.tasks.planning.organization import Organization
from golive.tasks.planning.readiness import score_organization
from golive.tasks.planning.waves import plan_waves
from golive.tasks.program.dues import default_phase, wave_calendar, wave_weeks
from golive.tasks.program.repository import PlannedPhase

START = date(2027, 1, 4)  # a Monday


def stored_plan(org: Organization) -> dict[str, PlannedPhase]:
    plan = plan_waves(org, score_organization(org))
    calendar = cal.build_calendar(org, plan, START, org.holiday_days)
    return {p["phase"]: PlannedPhase(str(p["phase"]), p["wave"],  # type: ignore[arg-type]
                                     date.fromisoformat(str(p["starts_on"])),
                                     date.fromisoformat(str(p["first_go_live"])) if p["first_go_live"] else None,
                                     date.fromisoformat(str(p["ends_on"]))) for p in calendar.plan_phases()}


def test_business_days_and_holidays() -> None:
    c = DueCalendar(date(2027, 1, 13), frozenset({date(2027, 1, 18)}))  # a Wednesday
    assert c.day("week 1 day 1") == date(2027, 1, 13)
    assert c.day("week 1 day 4") == date(2027, 1, 19)  # Saturday -> Monday 18th, a holiday -> Tuesday
    assert c.day("day 3") == date(2027, 1, 15)


def test_each_wave_meets_its_own_go_live_week(acme: Organization) -> None:
    phases = stored_plan(acme)
    assert set(phases) == {"pre-implementation", "wave-1", "wave-2", "wave-3"}
    go_live = parse_due("week 3 day 1")  # wave-go-live's go-live steps
    debrief = parse_due("week 4 day 5")
    for name in ("wave-1", "wave-2", "wave-3"):
        p = phases[name]
        c = wave_calendar(p, START, acme.holiday_days)
        assert p.first_go_live is not None
        assert cal.monday(c.day(go_live)) == cal.monday(p.first_go_live), name  # the week of its first go-live
        assert c.day(debrief) <= p.ends_on and cal.monday(c.day(debrief)) == cal.monday(p.ends_on), name
        # its first business day (wave 1 starts on MLK Day, 2027-01-18: the Tuesday)
        assert c.day("week 1 day 1") == cal.add_business_days(p.starts_on, 0, acme.holiday_days)
    assert wave_weeks(phases["wave-1"]) == (1, 2, 3, 4)  # the pilot's own timeline, unchanged
    assert wave_weeks(phases["wave-2"])[:3] == (1, 3, 4)  # playbook: W7 learnings, W8-9 training, W10 go-live
    assert wave_weeks(phases["wave-3"])[:3] == (1, 1, 2)  # a week of preparation, go-lives from its second


def test_wave_two_is_not_due_on_the_pilots_dates(acme: Organization) -> None:
    phases = stored_plan(acme)
    pilot = wave_calendar(phases["wave-1"], START)
    wave2 = wave_calendar(phases["wave-2"], START)
    assert wave2.day("week 1 day 1") > pilot.day("week 4 day 5")


def test_a_late_run_shifts_its_wave_and_nothing_falls_before_it(acme: Organization) -> None:
    p = stored_plan(acme)["wave-2"]
    late = date(2027, 3, 3)
    assert late > p.starts_on
    c = wave_calendar(p, late, acme.holiday_days)
    assert c.start == late and "started later" in c.source
    assert c.day("week 1 day 1") == late


@settings(max_examples=80, deadline=None)
@given(planned=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
       run=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
       wave=st.integers(1, 3), week=st.integers(1, 8), day=st.integers(1, 7),
       holidays=st.frozensets(st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 3, 31)), max_size=20))
def test_no_due_date_before_the_run_or_off_a_business_day(planned: date, run: date, wave: int, week: int, day: int,
                                                          holidays: frozenset[date]) -> None:
    c = wave_calendar(default_phase(wave, planned), run, holidays)
    when = c.day(f"week {week} day {day}")
    assert when >= run and when >= planned
    assert when.weekday() < 5 and when not in holidays
