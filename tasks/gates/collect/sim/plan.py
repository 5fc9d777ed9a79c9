"""A planned pilot for the metric-source SIMULATORS (`make demo`): a scenario file's daily figures
(`golive.tasks.gates.simulator`, e.g. pilot-ok) written into the simulators as the rows each
system would hold, so that collecting them gives the scenario's pilot back through the real
collectors. Made-up data by design, for rehearsals only.

What each simulator is given, per location and day:
- Open Dental: the scenario's plans presented and accepted (case acceptance), the platform's marker
  on its share of them (adoption; none before go-live), and completed procedures by category with
  fees (volumes, production per patient). Nothing on a day the office is closed.
- Zendesk: the scenario's tickets opened that day; its critical bugs as urgent tickets opened at
  go-live and solved as the scenario resolves them.
- The LRS: the scenario's staff completing the course (`completed` statements), the location's
  training hours shared among them as `result.duration`.
- Statuspage: a few short incidents on each location's platform component (a healthy month).
- The survey export: the champion's answer and provider refusals, on Fridays after go-live.
`outage(...)` then adds a scenario's outages: incidents on the vendor's status page (uptime as the
scenario sets it on those days) and the extra tickets they bring.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

from golive.tasks.gates.collect.calendar import OfficeCalendar
from golive.tasks.gates.collect.sim.month import PLATFORM_MARKER
from golive.tasks.gates.collect.sim.rig import COURSE
from golive.tasks.gates.collect.sim.statuspage import Incident
from golive.tasks.gates.collect.sim.zendesk import Ticket
from golive.tasks.gates.collect.xapi import COMPLETED, LOCATION_EXT
from golive.tasks.gates.observations import Observations

CODES = {"implant": ("D6010", 1800, 4200), "ortho": ("D8080", 900, 6000), "restorative": ("D2391", 150, 1200),
         "other": ("D1110", 60, 250)}
DAILY = {"implant": 1.2, "ortho": 1.0, "restorative": 6.0, "other": 10.0}  # completed procedures a day (mean)


def _n(series: Any, r: int, c: int) -> int:
    v = series[r, c]
    return int(v) if np.isfinite(v) else 0


def seed(rig: Any, obs: Observations, go_live: date, closed: Mapping[str, OfficeCalendar], *, seed: int = 4,
         skip: set[tuple[str, date]] | frozenset[tuple[str, date]] = frozenset()) -> None:
    """Write the scenario `obs` (its locations, its days) into the rig's simulators; `skip`: (location,
    day) pairs left empty in Open Dental (a silent PMS: the day will be missing)."""
    m = obs.metrics
    for r, loc in enumerate(obs.locations):
        rnd = random.Random(f"{seed}|plan|{loc}")
        db = rig.farm.dbs[loc]
        code_num = {row["ProcCode"]: row["CodeNum"] for row in db.query("SELECT CodeNum, ProcCode FROM procedurecode")}
        plans, procs, patient = [], [], 20000
        staff = _n(m["training_completion_pct"].denominator, r, obs.days - 1) or 12
        trained_before = 0
        bugs_before = 0
        for c in range(obs.days):
            day = obs.start + timedelta(days=c)
            d = day.isoformat()
            if closed[loc].closed(day) is None and (loc, day) not in skip:
                presented = _n(m["case_acceptance_pct"].denominator, r, c)
                accepted = _n(m["case_acceptance_pct"].numerator, r, c)
                share = m["adoption_pct"].values[r, c]
                made = round(presented * share / 100) if day >= go_live and np.isfinite(share) else 0
                for k in range(presented):
                    signed = f"{d} 1{k % 10}:30:00" if k < accepted else "0001-01-01 00:00:00"
                    note = PLATFORM_MARKER if k < made else "If you have insurance, THIS IS AN ESTIMATE ONLY."
                    plans.append((patient + k, d, note, "Active", f"{d} 09:00:00", signed))
                for cat, (code, lo, hi) in CODES.items():
                    for _ in range(int(np.random.default_rng(rnd.getrandbits(32)).poisson(DAILY[cat]))):
                        procs.append((patient + rnd.randrange(12), code_num[code], d, f"{rnd.randint(lo, hi)}.00",
                                      f"{d} 1{rnd.randint(0, 7)}:00:00"))
                patient += 12
            if day >= go_live:
                open_now = _n(m["critical_bugs_open"].values, r, c)  # the scenario's bugs all open at go-live
                _zendesk_day(rig.zendesk, loc, day, rnd, _n(m["support_tickets"].values, r, c),
                             opened_bugs=open_now if day == go_live else 0)
                if day > go_live:
                    _solve_bugs(rig.zendesk, loc, day, bugs_before - open_now)
                bugs_before = open_now
                trained = _n(m["training_completion_pct"].numerator, r, c)
                hours = m["training_hours"].values[r, c]
                _completions(rig.lrs, loc, day, trained - trained_before, rnd, float(hours) if np.isfinite(hours) else 0.0)
                trained_before = max(trained, trained_before)
                if day.weekday() == 4:  # the champion survey goes out on Fridays
                    _survey_row(rig.survey, loc, day, m, r, c)
        rig.staff[loc] = staff
        with db.lock:
            conn = db.conn
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO treatplan (PatNum, DateTP, Heading, Note, TPStatus, TPType, SecDateEntry,"
                             " SecDateTEdit, DateTSigned) VALUES (?, ?, 'Plan', ?, ?, 'Insurance', ?, ?, ?)",
                             [(p[0], p[1], p[2], p[3], p[1], p[4], p[5]) for p in plans])
            conn.executemany("INSERT INTO procedurelog (PatNum, CodeNum, ProcDate, ProcFee, ProcStatus, ToothNum,"
                             " DateTP, DateTStamp, SecDateEntry) VALUES (?, ?, ?, ?, 'C', '8', ?, ?, ?)",
                             [(p[0], p[1], p[2], p[3], p[2], p[4], p[2]) for p in procs])
            conn.execute("COMMIT")
        _healthy_month(rig, loc, go_live, obs.start + timedelta(days=obs.days - 1), rnd)


def _zendesk_day(state: Any, loc: str, day: date, rnd: random.Random, opened: int, opened_bugs: int) -> None:
    for k in range(max(opened, opened_bugs)):
        created = datetime.combine(day, time(8 + k % 10, rnd.randint(0, 59)))
        urgent = k < opened_bugs
        solved = None if urgent else created + timedelta(hours=rnd.randint(1, 30))
        state.tickets.append(Ticket(len(state.tickets) + 1, created, "urgent" if urgent else rnd.choice(("low", "normal")),
                                    "open" if urgent else "solved", [loc, "golive"], solved))


def _solve_bugs(state: Any, loc: str, day: date, count: int) -> None:
    """Solve `count` of the location's open urgent tickets during `day` (so they are not open at its end)."""
    for t in [t for t in state.tickets if loc in t.tags and t.priority == "urgent" and t.solved is None][:max(count, 0)]:
        t.solved, t.status = datetime.combine(day, time(16)), "solved"


def _completions(state: Any, loc: str, day: date, count: int, rnd: random.Random, hours: float) -> None:
    """`count` learners complete the course on `day`, the location's `hours` of training shared among them."""
    each = round(hours * 3600 / count) if count > 0 else 0
    for _ in range(max(count, 0)):
        n = len(state.statements) + 1
        stamp = datetime.combine(day, time(rnd.randint(8, 17), rnd.randint(0, 59))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        state.statements.append({
            "id": f"00000000-0000-4000-9000-{n:012d}",
            "actor": {"objectType": "Agent", "mbox_sha1sum": f"{rnd.getrandbits(160):040x}"},
            "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
            "object": {"objectType": "Activity", "id": COURSE},
            "context": {"extensions": {LOCATION_EXT: loc}}, "timestamp": stamp, "stored": stamp,
            **({"result": {"completion": True, "duration": f"PT{each}S"}} if each else {})})


def _survey_row(path: Any, loc: str, day: date, m: Mapping[str, Any], r: int, c: int) -> None:
    ready = m["champion_ready"].values[r]
    answer = int(np.nanmax(ready)) if np.isfinite(ready).any() else 1
    providers = _n(m["providers_refusing_pct"].denominator, r, c) or 4
    refusing = _n(m["providers_refusing_pct"].numerator, r, c)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{loc},{day},{answer},{providers},{refusing}\n")


def _healthy_month(rig: Any, loc: str, first: date, last: date, rnd: random.Random) -> None:
    """Two short incidents on the location's component during the pilot: a healthy SaaS month."""
    comp = rig.statuspage.component(rig.components[loc])
    span = (last - first).days
    for k in range(2):
        day = first + timedelta(days=rnd.randint(k * span // 2, (k + 1) * span // 2 - 1))
        start = datetime.combine(day, time(rnd.randint(6, 20), rnd.randint(0, 59)), tzinfo=UTC)
        rig.statuspage.incidents.append(Incident(f"plan{len(rig.statuspage.incidents) + 1:06d}", "Elevated errors",
                                                 rnd.choice(("major", "critical")), start,
                                                 start + timedelta(minutes=rnd.randint(10, 40)), [comp]))


def outage(rig: Any, ok: Observations, bad: Observations, events: Sequence[Mapping[str, Any]], go_live: date) -> None:
    """The scenario's outages, as the vendor's status page and the help desk would show them."""
    for ev in events:
        spec = str(ev["location"])
        r = int(spec[1:]) - 1 if spec.startswith("#") else list(ok.locations).index(spec)
        loc = ok.locations[r]
        comp = rig.statuspage.component(rig.components[loc])
        for k in range(int(ev.get("days", 1))):
            day = go_live + timedelta(days=int(ev["day"]) + k)
            down = (100.0 - float(ev.get("uptime_pct", 80.0))) / 100 * 86400
            start = datetime.combine(day, time(8), tzinfo=UTC)
            rig.statuspage.incidents.append(Incident(f"out{len(rig.statuspage.incidents) + 1:06d}", "Platform outage",
                                                     "critical", start, start + timedelta(seconds=down), [comp]))
            c = (day - ok.start).days
            extra = _n(bad.metrics["support_tickets"].values, r, c) - _n(ok.metrics["support_tickets"].values, r, c)
            _zendesk_day(rig.zendesk, loc, day, random.Random(f"outage|{loc}|{day}"), extra, 0)
