"""Deployment schedules from the stored plan (what `golive schedule sync` applies to Prefect).

- Each wave's gate (`go-no-go-wave<N>`) runs each business day (Mon–Fri, not on the organization's
  holidays, at 07:00 in its time zone: an RRULE with EXDATEs, `Desired.rrule`) from that wave's first go-live (each location
  judged from its own go-live, `go_lives`; the period ends 4 weeks after the last) until its
  latest stored verdict is GO, or until the named role recorded a decision on it (the gate's
  `decide` approval, "proceed anyway" on an inconclusive verdict: that is the wave's verdict, and
  asking again every day would re-open a decided question), then pauses; it judges the wave's locations that are not deferred
  or rolled back. A wave with no go-live yet has no gate schedule.
  Wave 3's gate (the last wave: GO declares full deployment) is scheduled the same way.
- The rollback watch runs hourly over the locations that are live (or stabilised).
- The program status (board and overdue reminders) runs weekly, Mondays 08:00.
- Deadline reminders (`deadline-reminders`: rollback deadlines, overdue steps) run hourly while a
  phase of the stored plan is running (its start to its end, in the organization's time zone) or
  a rollback is open, and pause when neither is: sync again as phases end (the weekly status and
  the plan's dates say when).
Schedules are identified by a slug (`golive-plan-...`), so a sync updates its own schedules and
leaves any other schedule on the deployment alone. Plain data: no Prefect import here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.program import repository
from golive.tasks.program.lifecycle import State
from golive.tasks.program.slots import is_business_day

GATES = {1: "go-no-go-wave1", 2: "go-no-go-wave2", 3: "go-no-go-wave3"}
GATE_HOUR = 7  # the gate reads yesterday's metrics each morning
LIVE = (State.LIVE, State.STABILISED)
MAX_RRULE_CHARS = 6500  # Prefect 3's limit on an RRuleSchedule's string (prefect/_internal/schemas/validators.py)


@dataclass(frozen=True)
class Desired:
    deployment: str  # <flow name>/<deployment name>, as prefect.yaml names them (both the runbook name)
    slug: str
    every: timedelta | None  # an interval schedule; None for a business-day one (`rrule`)
    anchor: date  # the first day it runs (local midnight + hour in the organization's time zone)
    hour: int
    timezone: str
    active: bool
    why: str
    parameters: dict[str, Any] = field(default_factory=dict)
    holidays: tuple[date, ...] = ()  # business days only: the closed weekdays on or after the anchor, skipped

    @property
    def rrule(self) -> str | None:
        """The business-day recurrence (RFC 5545, floating local times: Prefect's RRuleSchedule reads
        them in `timezone`, so 07:00 stays 07:00 across DST); None for an interval schedule."""
        if self.every is not None:
            return None
        lines = [f"DTSTART:{_local(self.anchor, self.hour)}",
                 f"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR={self.hour};BYMINUTE=0;BYSECOND=0"]
        if self.holidays:
            lines.append("EXDATE:" + ",".join(_local(day, self.hour) for day in self.holidays))
        return "\n".join(lines)

    def runs_on(self, day: date) -> bool:
        """Whether the schedule runs on `day` (a local date): active, from its anchor, and a business
        day for a business-day schedule or a multiple of its interval from the anchor otherwise."""
        if not self.active or day < self.anchor:
            return False
        if self.every is None:
            return is_business_day(day, frozenset(self.holidays))
        return (day - self.anchor) % self.every == timedelta(0)

    def cadence(self) -> str:
        if self.every is None:
            return f"business days {self.hour:02d}:00"
        return f"every {int(self.every.total_seconds()) // 3600} h"

    def to_dict(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "slug": self.slug,
                "every_s": None if self.every is None else int(self.every.total_seconds()),
                "cadence": self.cadence(), "rrule": self.rrule, "holidays": [d.isoformat() for d in self.holidays],
                "anchor": self.anchor.isoformat(), "hour": self.hour, "timezone": self.timezone,
                "active": self.active, "why": self.why, "parameters": self.parameters}


def _local(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour)).strftime("%Y%m%dT%H%M%S")


def business_days(deployment: str, slug: str, anchor: date, hour: int, timezone: str, active: bool, why: str,
                  parameters: dict[str, Any], holidays: Iterable[date] = ()) -> Desired:
    """A schedule on business days from `anchor`: only the holidays it would otherwise run on (weekdays
    on or after the anchor) are kept, so the rrule stays short."""
    closed = tuple(sorted({d for d in holidays if d >= anchor and d.weekday() < 5}))
    d = Desired(deployment, slug, None, anchor, hour, timezone, active, why, parameters, closed)
    if len(d.rrule or "") > MAX_RRULE_CHARS:
        raise UserInputError(f"holidays: {len(closed)} holidays from {anchor.isoformat()} make {slug}'s rrule "
                         f"{len(d.rrule or '')} characters; Prefect accepts at most {MAX_RRULE_CHARS}")
    return d


def _first(events: list[dict[str, Any]], to: State, locations: set[str], wave: int | None = None) -> date | None:
    """The first day one of `locations` entered `to` (in `wave`, when given: a location re-scheduled
    from an earlier wave brings its earlier go-live along; that one does not start this wave's gate)."""
    days = [e["on"] for e in events if e["to"] == to.value and e["location"] in locations
            and (wave is None or e["wave"] in (wave, None))]
    return min(days) if days else None


def desired(store: Any, timezone: str, today: date | None = None,
            holidays: Iterable[date] = ()) -> list[Desired]:
    """`timezone` and `holidays`: the organization's (`load_org(...).timezone`, `.holiday_days`); the
    gates run on business days in that zone."""
    from golive.tasks.gates.repository import decisions, open_rollbacks, verdicts

    where = repository.locations(store)
    events = repository.events(store)
    latest = {}
    for v in verdicts(store):
        if v["wave"] is not None:
            latest[str(v["wave"])] = v["verdict"]
    decided = decisions(store, list(GATES.values()))
    waves: dict[int, set[str]] = {}
    for loc, w in where.items():
        # A deferred or rolled-back location is out of its wave's gate: it waits for a later wave, and
        # its own data (the outage that rolled it back) must not hold the rest of its wave at NO-GO.
        if w.wave is not None and w.state not in (State.DEFERRED, State.ROLLED_BACK):
            waves.setdefault(w.wave, set()).add(loc)
    out = []
    for n, locs in sorted(waves.items()):
        if n not in GATES:
            continue
        go_live = _first(events, State.LIVE, locs, n)
        if go_live is None:
            continue
        verdict = latest.get(str(n))
        # Each location is judged from its own go-live (wave 3's go-lives, 5 a week, span weeks): the
        # gate counts none of a location's days before it, counts no location not live yet, and says
        # GO only once every location has been live two weeks. The period closes four weeks after
        # the LAST go-live so far (a final NO-GO or decision then covers every location's 4 weeks);
        # the next sync moves it on as locations go live, and a location still to go live keeps it open.
        go_lives = {loc: day for loc in sorted(locs) if (day := _first(events, State.LIVE, {loc}, n)) is not None}
        params: dict[str, Any] = {"locations": sorted(locs), "pilot_start": go_live.isoformat(),
                                  "pilot_end": (max(go_lives.values()) + timedelta(days=27)).isoformat(),
                                  "go_lives": {loc: day.isoformat() for loc, day in go_lives.items()},
                                  "baseline_start": (go_live - timedelta(days=28)).isoformat(),
                                  "baseline_end": (go_live - timedelta(days=1)).isoformat()}
        if n == 2:  # wave 2's gate compares training time with wave 1's (wave 3's does not)
            w1 = waves.get(1, set())
            t1 = _first(events, State.TRAINING, w1, 1) or go_live
            p1 = _first(events, State.PARALLEL_RUN, w1, 1) or t1
            params.update({"wave1_locations": sorted(w1),
                           "training_start": (_first(events, State.TRAINING, locs, n) or go_live).isoformat(),
                           "wave1_training_start": t1.isoformat(),
                           "wave1_training_end": max(t1, p1 - timedelta(days=1)).isoformat()})
        decision = decided.get(GATES[n])
        active = verdict != "go" and decision is None
        why = f"wave {n} live since {go_live.isoformat()}; latest verdict {(verdict or 'none').upper()}"
        if verdict == "go":
            why += ": GO, gate paused"
        elif decision is not None:
            why += f": the {decision['role']} decided to proceed (recorded, run {decision['run_id']}), gate paused"
        out.append(business_days(f"{GATES[n]}/{GATES[n]}", f"golive-plan-wave{n}-gate", go_live, GATE_HOUR,
                                 timezone, active, why, params, holidays))
    if where:  # the weekly status report, Mondays 08:00, once the program tracks a location
        first = min(e["on"] for e in events) if events else date.today()
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        out.append(Desired("program-status/program-status", "golive-plan-weekly-status", timedelta(weeks=1), monday,
                           8, timezone, True, f"{len(where)} location(s) in the program", {}))
    out.extend(_deadline_reminders(store, timezone, today, open_rollbacks(store)))
    live = sorted(loc for loc, w in where.items() if w.state in LIVE)
    first_live = _first(events, State.LIVE, set(live))
    out.append(Desired("rollback-watch/rollback-watch", "golive-plan-rollback-watch", timedelta(hours=1),
                       first_live or date.today(), 0, timezone, bool(live),
                       f"{len(live)} live location(s)" if live else "no live location: paused",
                       {"locations": live}))
    return out


def _deadline_reminders(store: Any, timezone: str, today: date | None,
                        rollbacks: dict[str, dict[str, Any]]) -> list[Desired]:
    """Hourly while a stored phase runs or a rollback is open; paused otherwise (none at all
    before there is a plan or a rollback)."""
    phases = repository.phases(store)
    if not phases and not rollbacks:
        return []
    day = today or datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    running = [p for p in phases.values() if p.running(day)]
    why = []
    if running:
        why.append(", ".join(f"{p.phase} runs {p.starts_on.isoformat()}–{p.ends_on.isoformat()}" for p in running))
    if rollbacks:
        why.append(f"{len(rollbacks)} open rollback(s): {', '.join(sorted(rollbacks))}")
    anchor = min([p.starts_on for p in running], default=day)
    return [Desired("deadline-reminders/deadline-reminders", "golive-plan-deadline-reminders", timedelta(hours=1),
                    anchor, 0, timezone, bool(why),
                    "; ".join(why) if why else f"no phase running on {day.isoformat()} and no open rollback: paused",
                    {})]
