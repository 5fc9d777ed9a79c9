"""The go-live calendar (playbook section 4): phases by week, every go-live on a day, pilot check-ins.

Timeline from a start date (week 1 is the week containing it; weeks run Monday-Sunday):

- Pre-implementation: weeks 1-2.
- Wave 1 (pilot): weeks 3-6. Week 3 configuration and champion training, week 4 staff training
  and parallel run, go-lives in week 5, week 6 stabilization. Pilot go-lives are staggered one per
  slot on every other business day, so the central team attends each.
- Buffer, then Wave 2: starts the week after wave 1 ends (week 7: apply learnings; weeks 8-9
  training); go-lives from its fourth week (week 10), two per slot on every other business day as
  in the playbook's example (Mon, Wed, Fri of W10, then Tue, Thu of W11, ...). The wave ends one
  week after its last go-live, and never before its sixth week (week 12).
- Buffer, then Wave 3: starts the week after wave 2 ends (week 13, preparation with wave 1/2
  champions), go-lives from its second week, one per business day and at most 5 per week; it ends
  two weeks after its last go-live week (monitoring, then stabilization and debrief), and never
  before its fourth week.

A 25-location group lands in 16-20 weeks; larger waves push later phases back (50 locations:
20-28 weeks), as the playbook expects. Everywhere: at most 3 go-lives on one day, weekends and the
given holidays skipped, and the support capacity respected: no more than `support_capacity`
locations within their first `hypercare_days` business days at once. Wave order is strict: a
wave's first go-live comes after the previous wave's last.

Pilot check-ins (playbook "Daily Check-In Cadence"): day 1 is the go-live business day; days 1-5
a daily 15-minute standup, days 6-14 every other business day, then weekly until the pilot wave is
complete, which we take as the day before wave 2's first go-live (the go/no-go gate sits between).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.planning.organization import Organization
from golive.tasks.planning.waves import WAVE_NAMES, WavePlan

log = logging.getLogger(__name__)

PLAYBOOK_MAX_PER_DAY = 3
PLAYBOOK_WAVE3_PER_WEEK = 5


@dataclass(frozen=True)
class CalendarRules:
    max_per_day: int = 3  # playbook: never more than 3 go-lives on the same day
    wave1_per_slot: int = 1
    wave2_per_slot: int = 2  # playbook example: 2 per day, Mon/Wed/Fri then Tue/Thu
    wave3_per_day: int = 1
    wave3_per_week: int = 5  # playbook: up to 5 locations per week
    support_capacity: int = 6  # locations in hypercare at once that the support team can cover
    hypercare_days: int = 5  # business days after a go-live that count against support capacity

    def check(self) -> None:
        problems = []
        if not 1 <= self.max_per_day <= PLAYBOOK_MAX_PER_DAY:
            problems.append(f"max_per_day must be 1-{PLAYBOOK_MAX_PER_DAY} (the playbook's cap), got {self.max_per_day}")
        if not 1 <= self.wave3_per_week <= PLAYBOOK_WAVE3_PER_WEEK:
            problems.append(f"wave3_per_week must be 1-{PLAYBOOK_WAVE3_PER_WEEK}, got {self.wave3_per_week}")
        for name in ("wave1_per_slot", "wave2_per_slot", "wave3_per_day", "support_capacity", "hypercare_days"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if problems:
            raise UserInputError("calendar rules: " + "; ".join(problems))


@dataclass(frozen=True)
class Phase:
    name: str
    start: date
    end: date
    start_week: int
    end_week: int
    detail: str = ""


@dataclass(frozen=True)
class GoLive:
    location_id: str
    name: str
    wave: int
    day: date
    region: str
    timezone: str


@dataclass(frozen=True)
class CheckIn:
    location_id: str
    name: str
    day: date
    day_number: int  # business days since go-live; go-live day is 1
    cadence: str
    timezone: str


@dataclass(frozen=True)
class Calendar:
    start: date
    phases: tuple[Phase, ...]
    go_lives: tuple[GoLive, ...]
    check_ins: tuple[CheckIn, ...]
    holidays: frozenset[date] = frozenset()
    rules: CalendarRules = CalendarRules()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def end(self) -> date:
        return max(p.end for p in self.phases)

    @property
    def weeks(self) -> int:
        return max(p.end_week for p in self.phases)

    def week_of(self, day: date) -> int:
        return week_number(self.start, day)

    def rows(self) -> list[dict[str, object]]:
        """Go-lives as table rows, in date order."""
        return [
            {
                "date": g.day.isoformat(),
                "weekday": g.day.strftime("%a"),
                "week": self.week_of(g.day),
                "wave": g.wave,
                "location": g.name,
                "id": g.location_id,
                "region": g.region,
            }
            for g in self.go_lives
        ]

    def plan_phases(self) -> list[dict[str, object]]:
        """Pre-implementation and each wave with its start, first go-live and end: what the
        program stores as the plan (each wave's due dates count from its own start)."""
        out: list[dict[str, object]] = []
        for p in self.phases:
            wave = next((n for n, name in WAVE_NAMES.items() if name == p.name), None)
            if wave is None and p.name != "Pre-implementation":
                continue  # the buffers belong to the gates, not to a phase with due dates
            first = min((g.day for g in self.go_lives if g.wave == wave), default=None) if wave else None
            out.append({"phase": f"wave-{wave}" if wave else "pre-implementation", "wave": wave,
                        "starts_on": p.start.isoformat(), "first_go_live": first.isoformat() if first else None,
                        "ends_on": p.end.isoformat()})
        return out

    def phase_rows(self) -> list[dict[str, object]]:
        return [
            {"phase": p.name, "weeks": f"{p.start_week}–{p.end_week}" if p.end_week != p.start_week else str(p.start_week),
             "start": p.start.isoformat(), "end": p.end.isoformat(), "detail": p.detail}
            for p in self.phases
        ]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def first_monday(start: date) -> date:
    """Monday of a timeline's week 1: the week of `start`, or the next one when `start` falls on a
    weekend (a Sunday start must not get a week-1 Friday two days before it)."""
    return monday(start) + timedelta(weeks=1 if start.weekday() >= 5 else 0)


def week_number(start: date, day: date) -> int:
    """1-based week of `day` in a timeline whose week 1 contains `start` (or follows a weekend start)."""
    return (monday(day) - first_monday(start)).days // 7 + 1


def week_start(start: date, week: int) -> date:
    return first_monday(start) + timedelta(weeks=week - 1)


def week_end(start: date, week: int) -> date:
    return week_start(start, week) + timedelta(days=4)  # Friday


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def business_days(first: date, holidays: frozenset[date]) -> Iterator[date]:
    day = first
    while True:
        if is_business_day(day, holidays):
            yield day
        day += timedelta(days=1)


def add_business_days(day: date, n: int, holidays: frozenset[date]) -> date:
    """The n-th business day after `day` (n=0: `day` itself if a business day, else the next)."""
    it = business_days(day, holidays)
    result = next(it)
    for _ in range(n):
        result = next(it)
    return result


class _Board:
    """Go-lives placed so far, with the caps every placement must respect."""

    def __init__(self, rules: CalendarRules, holidays: frozenset[date]) -> None:
        self.rules = rules
        self.holidays = holidays
        self.per_day: Counter[date] = Counter()
        self.days: list[date] = []

    def in_hypercare(self, day: date) -> int:
        # Go-lives on this day or within the previous hypercare_days - 1 business days.
        window_start = day
        for _ in range(self.rules.hypercare_days - 1):
            window_start -= timedelta(days=1)
            while not is_business_day(window_start, self.holidays):
                window_start -= timedelta(days=1)
        return sum(1 for d in self.days if window_start <= d <= day)

    def room(self, day: date) -> int:
        return min(
            self.rules.max_per_day - self.per_day[day],
            self.rules.support_capacity - self.in_hypercare(day),
        )

    def place(self, day: date) -> None:
        self.per_day[day] += 1
        self.days.append(day)


def _schedule_wave(
    ids: Sequence[str],
    first_day: date,
    board: _Board,
    per_slot: int,
    every_other: bool,
    per_week: int | None,
    not_before: date | None,
) -> list[tuple[str, date]]:
    placed: list[tuple[str, date]] = []
    queue = list(ids)
    weekly: Counter[date] = Counter()
    days = business_days(first_day, board.holidays)
    guard = 0
    while queue:
        day = next(days)
        if every_other:
            next(days)  # the day after this slot is left free (Mon, Wed, Fri, Tue, Thu, ...)
        guard += 1
        if guard > 10_000:
            raise UserInputError("calendar: could not place every go-live (check support capacity)")
        if not_before is not None and day <= not_before:
            continue
        room = min(per_slot, board.room(day))
        if per_week is not None:
            room = min(room, per_week - weekly[monday(day)])
        for _ in range(max(room, 0)):
            if not queue:
                break
            ident = queue.pop(0)
            board.place(day)
            weekly[monday(day)] += 1
            placed.append((ident, day))
    return placed


def build_calendar(
    org: Organization,
    plan: WavePlan,
    start: date,
    holidays: Iterable[date] = (),
    rules: CalendarRules = CalendarRules(),
) -> Calendar:
    rules.check()
    hol = frozenset(holidays)
    board = _Board(rules, hol)
    locs = {loc.id: loc for loc in org.locations}
    notes: list[str] = []
    phases: list[Phase] = []

    def phase(name: str, w1: int, w2: int, detail: str) -> None:
        s = max(week_start(start, w1), start)
        phases.append(Phase(name, s, week_end(start, w2), w1, w2, detail))

    phase("Pre-implementation", 1, 2, "Infrastructure audit, baseline metrics (due end of week 1), stakeholder alignment")

    # Wave 1: go-lives in its third week.
    w1_start = 3
    w1_golive = week_start(start, w1_start + 2)
    pilot = _schedule_wave(plan.waves.get(1, ()), w1_golive, board, rules.wave1_per_slot, True, None, None)
    w1_end = max([w1_start + 3] + [week_number(start, d) + 1 for _, d in pilot])
    phase(WAVE_NAMES[1], w1_start, w1_end,
          "Week 3 configuration and champion training; week 4 staff training and parallel run; "
          "week 5 go-live; then stabilization and the pilot debrief")
    if not pilot:
        notes.append("Wave 1 has no locations: no pilot can run; see the wave plan.")
    last = max((d for _, d in pilot), default=None)

    # Wave 2: starts the week after wave 1 ends; go-lives from its fourth week.
    w2_start = w1_end + 1
    phase("Buffer: wave 1→2 go/no-go", w2_start, w2_start, "Go/no-go review against the playbook's six criteria; apply learnings")
    w2_golive = week_start(start, w2_start + 3)
    wave2 = _schedule_wave(plan.waves.get(2, ()), w2_golive, board, rules.wave2_per_slot, True, None, last)
    w2_end = max([w2_start + 5] + [week_number(start, d) + 1 for _, d in wave2])
    phase(WAVE_NAMES[2], w2_start, w2_end,
          "Apply learnings and update materials; champion and staff training; staggered go-lives; "
          "active monitoring; stabilization and debrief")
    last = max((d for _, d in wave2), default=last)

    # Wave 3: starts the week after wave 2 ends; go-lives from its second week.
    w3_start = w2_end + 1
    phase("Buffer: wave 2→3 go/no-go", w3_start, w3_start, "Go/no-go plus cross-location consistency, ticket trend, training efficiency")
    w3_golive = week_start(start, w3_start + 1)
    wave3 = _schedule_wave(
        plan.waves.get(3, ()), w3_golive, board, rules.wave3_per_day, False, rules.wave3_per_week, last
    )
    w3_end = max([w3_start + 3] + [week_number(start, d) + 2 for _, d in wave3])
    phase(WAVE_NAMES[3], w3_start, w3_end,
          "Preparation with wave 1/2 champions; up to 5 go-lives a week; regional managers coordinate")

    go_lives = tuple(
        sorted(
            (
                GoLive(i, locs[i].name, wave, d, locs[i].region, locs[i].timezone)
                for wave, placed in ((1, pilot), (2, wave2), (3, wave3))
                for i, d in placed
            ),
            key=lambda g: (g.day, g.wave, g.location_id),
        )
    )
    w2_first = min((d for _, d in wave2), default=None)
    complete = (w2_first - timedelta(days=1)) if w2_first else week_end(start, w1_end)
    check_ins = tuple(
        c for i, d in pilot for c in pilot_check_ins(i, locs[i].name, locs[i].timezone, d, complete, hol)
    )
    n1, n2 = len(plan.waves.get(1, ())), len(plan.waves.get(2, ()))
    if n1 and not 2 <= n1 <= 3:
        notes.append(f"Wave 1 has {n1} location(s); the playbook pilots 2–3.")
    if n2 > 8:
        notes.append(
            f"Wave 2 has {n2} locations (the playbook plans 5–8): its go-lives run to week "
            f"{max(week_number(start, d) for _, d in wave2)} and later phases move back accordingly."
        )
    for d in sorted(hol):
        if week_start(start, 1) <= d <= week_end(start, w3_end) and d.weekday() < 5:
            notes.append(f"{d.isoformat()} is a holiday: no go-lives or check-ins")
    weeks = max(p.end_week for p in phases)
    notes.append(f"{len(go_lives)} go-lives over {weeks} weeks ({start.isoformat()} to {week_end(start, weeks).isoformat()})")
    return Calendar(start, tuple(phases), go_lives, check_ins, hol, rules, tuple(notes))


def pilot_check_ins(
    location_id: str, name: str, tz: str, go_live: date, complete: date, holidays: frozenset[date]
) -> list[CheckIn]:
    out: list[CheckIn] = []
    for n, day in enumerate(business_days(go_live, holidays), start=1):
        if n <= 5:
            out.append(CheckIn(location_id, name, day, n, "daily standup", tz))
        elif n <= 14:
            if n % 2 == 0:
                out.append(CheckIn(location_id, name, day, n, "every-other-day check-in", tz))
        elif day > complete:
            break
        elif (n - 15) % 5 == 0:
            out.append(CheckIn(location_id, name, day, n, "weekly check-in", tz))
    return out


# ---------------------------------------------------------------------------------------------
# iCalendar output


def to_ics(cal: Calendar, org_name: str, stamp: datetime | None = None, standup_at: time = time(9, 0)) -> bytes:
    """The calendar as an iCalendar file (RFC 5545) through the `icalendar` library.

    Phases and go-lives are all-day events; pilot check-ins are 15-minute meetings at
    `standup_at` in the location's time zone (VTIMEZONE components added). UIDs are stable, so
    re-importing an updated file replaces events instead of duplicating them.
    """
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    stamp = stamp or datetime.now(UTC)
    ical = ICalendar()
    ical.add("prodid", "-//golive//rollout calendar//EN")
    ical.add("version", "2.0")
    ical.add("x-wr-calname", f"{org_name} rollout")

    def all_day(uid: str, summary: str, first: date, last: date, description: str = "", location: str = "") -> None:
        ev = Event()
        ev.add("uid", f"{uid}@golive")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", first)
        ev.add("dtend", last + timedelta(days=1))  # exclusive end for all-day events
        if description:
            ev.add("description", description)
        if location:
            ev.add("location", location)
        ev.add("transp", "TRANSPARENT")
        ical.add_component(ev)

    for i, p in enumerate(cal.phases):
        all_day(f"phase-{i}-{p.start.isoformat()}", p.name, p.start, p.end, p.detail)
    for g in cal.go_lives:
        all_day(f"golive-{g.location_id}", f"Go-live: {g.name} ({WAVE_NAMES[g.wave]})", g.day, g.day,
                f"Wave {g.wave} go-live at {g.name} ({g.region} region).", g.name)
    for c in cal.check_ins:
        ev = Event()
        ev.add("uid", f"checkin-{c.location_id}-{c.day.isoformat()}@golive")
        ev.add("dtstamp", stamp)
        ev.add("summary", f"Pilot {c.cadence}: {c.name} (day {c.day_number})")
        begin = datetime.combine(c.day, standup_at, tzinfo=ZoneInfo(c.timezone))
        ev.add("dtstart", begin)
        ev.add("dtend", begin + timedelta(minutes=15))
        ev.add("description", "Location champion, regional manager and central team.")
        ev.add("location", c.name)
        ical.add_component(ev)
    ical.add_missing_timezones()
    return bytes(ical.to_ical())
