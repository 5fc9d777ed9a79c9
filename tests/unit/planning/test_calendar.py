"""Go-live calendar: the playbook's stagger, caps, holidays, check-ins, .ics; properties by hypothesis."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar as ICalendar

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.planning.calendar import CalendarRules, build_calendar, monday, to_ics, week_number
from golive.tasks.planning.organization import Organization
from golive.tasks.planning.readiness import score_organization
from golive.tasks.planning.waves import Pilot, WavePlan, plan_waves

START = date(2027, 1, 4)  # a Monday


def _plan(org: Organization, w1: int, w2: int, w3: int) -> WavePlan:
    ids = [loc.id for loc in org.locations]
    waves = {1: tuple(ids[:w1]), 2: tuple(ids[w1:w1 + w2]), 3: tuple(ids[w1 + w2:w1 + w2 + w3])}
    return WavePlan(pilot=Pilot(waves[1], ()), waves=waves)


def test_wave2_matches_the_playbook_example(acme: Organization) -> None:
    cal = build_calendar(acme, _plan(acme, 2, 8, 0), START)
    wave2 = [(g.day.strftime("%a"), week_number(START, g.day)) for g in cal.go_lives if g.wave == 2]
    # Monday W10: 1-2, Wednesday W10: 3-4, Friday W10: 5-6, Tuesday W11: 7-8.
    assert wave2 == [("Mon", 10)] * 2 + [("Wed", 10)] * 2 + [("Fri", 10)] * 2 + [("Tue", 11)] * 2
    wave1 = [(g.day.strftime("%a"), week_number(START, g.day)) for g in cal.go_lives if g.wave == 1]
    assert wave1 == [("Mon", 5), ("Wed", 5)]
    phases = {p.name: (p.start_week, p.end_week) for p in cal.phases}
    assert phases["Pre-implementation"] == (1, 2)
    assert phases["Wave 1: Pilot"] == (3, 6)
    assert phases["Wave 2: Expansion"] == (7, 12)
    assert phases["Wave 3: Scale"][0] == 13


def test_acme_calendar_fits_the_playbook_timeline(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme))
    cal = build_calendar(acme, plan, START, holidays=[date(2027, 1, 18), date(2027, 2, 15)])
    assert 16 <= cal.weeks <= 20  # playbook: 16-20 weeks for a 25-location group
    assert len(cal.go_lives) == 21


def test_holidays_and_weekends_are_skipped(acme: Organization) -> None:
    w10_monday = START + timedelta(weeks=9)
    cal = build_calendar(acme, _plan(acme, 2, 4, 0), START, holidays=[w10_monday])
    days = [g.day for g in cal.go_lives if g.wave == 2]
    assert w10_monday not in days and days[0] == w10_monday + timedelta(days=1)
    assert all(d.weekday() < 5 for d in days)


def test_wave3_five_per_week(acme: Organization) -> None:
    cal = build_calendar(acme, _plan(acme, 2, 2, 12), START)
    per_week = Counter(monday(g.day) for g in cal.go_lives if g.wave == 3)
    assert list(per_week.values()) == [5, 5, 2]


def test_support_capacity_spreads_go_lives(acme: Organization) -> None:
    cal = build_calendar(acme, _plan(acme, 2, 8, 0), START, rules=CalendarRules(wave2_per_slot=3, support_capacity=3))
    days = Counter(g.day for g in cal.go_lives if g.wave == 2)
    # 3 on Monday W10; the next slots wait until those three leave their 5-day hypercare.
    assert sorted(days.items()) == [(date(2027, 3, 8), 3), (date(2027, 3, 16), 3), (date(2027, 3, 24), 2)]


def test_pilot_check_in_cadence(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme))
    cal = build_calendar(acme, plan, START)
    first = plan.waves[1][0]
    ins = [c for c in cal.check_ins if c.location_id == first]
    assert [c.day_number for c in ins[:10]] == [1, 2, 3, 4, 5, 6, 8, 10, 12, 14]
    assert {c.cadence for c in ins[:5]} == {"daily standup"}
    weekly = [c for c in ins if c.cadence == "weekly check-in"]
    wave2_first = min(g.day for g in cal.go_lives if g.wave == 2)
    assert weekly and all(c.day < wave2_first for c in weekly)
    assert [c.day_number for c in weekly] == list(range(15, 15 + 5 * len(weekly), 5))


def test_rules_beyond_the_playbook_caps_are_refused() -> None:
    with pytest.raises(UserInputError, match="max_per_day must be 1-3"):
        CalendarRules(max_per_day=4).check()
    with pytest.raises(UserInputError, match="wave3_per_week must be 1-5"):
        CalendarRules(wave3_per_week=6).check()


def test_ics_round_trips(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme))
    cal = build_calendar(acme, plan, START)
    data = to_ics(cal, acme.name, stamp=datetime(2027, 1, 1, tzinfo=UTC))
    parsed = ICalendar.from_ical(data)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == len(cal.phases) + len(cal.go_lives) + len(cal.check_ins)
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert any(tz["TZID"] == "America/Chicago" for tz in parsed.walk("VTIMEZONE"))
    golive = next(e for e in events if str(e["SUMMARY"]).startswith("Go-live: Lakeview"))
    assert golive.decoded("DTSTART") == next(g.day for g in cal.go_lives if g.location_id == "lakeview-implant")
    # Same input, same bytes: the file is reproducible.
    assert to_ics(cal, acme.name, stamp=datetime(2027, 1, 1, tzinfo=UTC)) == data


# -- Properties ---------------------------------------------------------------------------------

_weekday_2027 = st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    w1=st.integers(0, 3),
    w2=st.integers(0, 14),
    w3=st.integers(0, 8),
    start=_weekday_2027,
    holidays=st.lists(_weekday_2027, max_size=12),
    per_slot=st.integers(1, 3),
    per_day=st.integers(1, 3),
    per_week=st.integers(1, 5),
    capacity=st.integers(1, 8),
    hypercare=st.integers(1, 7),
)
def test_every_calendar_obeys_caps_and_wave_order(
    acme: Organization, w1: int, w2: int, w3: int, start: date, holidays: list[date], per_slot: int,
    per_day: int, per_week: int, capacity: int, hypercare: int,
) -> None:
    rules = CalendarRules(wave2_per_slot=per_slot, wave3_per_day=per_day, wave3_per_week=per_week,
                          support_capacity=capacity, hypercare_days=hypercare)
    plan = _plan(acme, w1, w2, w3)
    cal = build_calendar(acme, plan, start, holidays, rules)
    hol = set(holidays)
    assert sorted(g.location_id for g in cal.go_lives) == sorted(i for ids in plan.waves.values() for i in ids)
    assert all(g.day.weekday() < 5 and g.day not in hol for g in cal.go_lives)
    assert max(Counter(g.day for g in cal.go_lives).values(), default=0) <= 3
    wave3_weeks = Counter(monday(g.day) for g in cal.go_lives if g.wave == 3)
    assert max(wave3_weeks.values(), default=0) <= per_week
    by_wave = {n: [g.day for g in cal.go_lives if g.wave == n] for n in (1, 2, 3)}
    for a, b in ((1, 2), (2, 3), (1, 3)):
        if by_wave[a] and by_wave[b]:
            assert max(by_wave[a]) < min(by_wave[b])
    assert all(g.day >= start for g in cal.go_lives)
    business = sorted({g.day for g in cal.go_lives})
    for day in business:  # support capacity: go-lives within the hypercare window
        window: list[date] = []
        d = day
        while len(window) < hypercare:
            if d.weekday() < 5 and d not in hol:
                window.append(d)
            d -= timedelta(days=1)
        assert sum(1 for g in cal.go_lives if window[-1] <= g.day <= day) <= capacity
    for c in cal.check_ins:
        assert c.day.weekday() < 5 and c.day not in hol


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 10_000))
def test_generated_groups_schedule_every_planned_location(n: int, seed: int) -> None:
    from golive.tasks.planning.generator import generate_organization

    org = generate_organization(n, seed)
    plan = plan_waves(org, score_organization(org))
    cal = build_calendar(org, plan, START)
    planned = {i for ids in plan.waves.values() for i in ids}
    assert {g.location_id for g in cal.go_lives} == planned
    assert max(Counter(g.day for g in cal.go_lives).values(), default=0) <= 3


def test_location_timezones_flow_into_check_ins(acme: Organization) -> None:
    locs = tuple(replace(loc, timezone="America/New_York") if loc.id == "lakeview-implant" else loc
                 for loc in acme.locations)
    org = replace(acme, locations=locs)
    cal = build_calendar(org, plan_waves(org, score_organization(org)), START)
    data = to_ics(cal, org.name, stamp=datetime(2027, 1, 1, tzinfo=UTC)).decode()
    assert "DTSTART;TZID=America/New_York:20270201T090000" in data
