"""A seeded month for the metric-source SIMULATORS: deterministic daily truths per location, the
rows each simulator needs to answer them, and the expected samples (what a faithful collection
must give back, value for value).

Noise the collectors must ignore is seeded too: Saved plans, plans presented another day and
signed on this one, procedures still treatment-planned, procedures completed the day before and
edited on this one, tickets of other locations and other days, other verbs in the LRS.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from golive.tasks.pms.simulator.db import SEED_CODES, SimDb, proc_cat

PLATFORM_MARKER = "[golive-platform-plan]"
Truth = dict[tuple[str, str, date], tuple[float, float | None, float | None]]

CODES = {"implant": ("D6010", "D6056", "D6065"), "ortho": ("D8080", "D8090"), "restorative": ("D2140", "D2391", "D2740"),
         "other": ("D0120", "D1110", "D0330")}


@dataclass
class Month:
    locations: list[str]
    start: date
    days: int
    seed: int = 7
    gap_days: set[tuple[str, date]] = field(default_factory=set)  # (location, day) with no PMS activity at all
    truth: Truth = field(default_factory=dict)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def rng(self, *key: object) -> random.Random:
        return random.Random(f"{self.seed}|" + "|".join(map(str, key)))

    def expect(self, loc: str, metric: str, day: date, value: float, num: float | None = None,
               den: float | None = None) -> None:
        self.truth[(loc, metric, day)] = (float(value), num, den)

    # -- Open Dental ---------------------------------------------------------------------------
    def seed_opendental(self, dbs: dict[str, SimDb]) -> None:
        for loc in self.locations:
            db = dbs[loc]
            if not db.query("SELECT 1 FROM procedurecode LIMIT 1"):
                with db.lock:
                    db.conn.executemany("INSERT INTO procedurecode (CodeNum, ProcCode, ProcCat, DateTStamp)"
                                        " VALUES (?, ?, ?, '2024-01-01 00:00:00')",
                                        [(i + 1, c, proc_cat(c)) for i, c in enumerate(SEED_CODES)])
            code_num = {r["ProcCode"]: r["CodeNum"] for r in db.query("SELECT CodeNum, ProcCode FROM procedurecode")}
            plans: list[tuple[Any, ...]] = []
            procs: list[tuple[Any, ...]] = []
            for day in self.dates():
                if (loc, day) in self.gap_days:
                    continue
                r = self.rng("od", loc, day)
                d, old = day.isoformat(), (self.start - timedelta(days=30)).isoformat()
                presented = r.randint(1, 9)
                accepted = r.randint(0, presented)
                made = r.randint(0, presented)  # plans the platform made (its marker in the Note)
                for k in range(presented):
                    signed = f"{d} 1{k % 10}:30:00" if k < accepted else "0001-01-01 00:00:00"
                    status = r.choice(("Active", "Inactive"))
                    note = PLATFORM_MARKER if k < made else "If you have insurance, THIS IS AN ESTIMATE ONLY."
                    plans.append((1000 + k, d, status, f"{d} 09:00:00", signed, note))
                plans.append((2000, d, "Saved", f"{d} 09:05:00", f"{d} 11:00:00", PLATFORM_MARKER))  # frozen copy: not counted
                plans.append((2001, old, "Active", f"{d} 08:00:00", f"{d} 08:00:00", PLATFORM_MARKER))  # presented earlier, signed today
                counts = {c: r.randint(0, 4) for c in CODES}
                counts["other"] += 1  # every open day completes something
                patients = r.randint(1, sum(counts.values()))
                fees = 0.0
                n = 0
                for cat, k in counts.items():
                    for _ in range(k):
                        fee = r.randint(40, 2400)
                        fees += fee
                        pat = 10000 + (n % patients)  # every one of `patients` gets at least one procedure
                        n += 1
                        procs.append((pat, code_num[r.choice(CODES[cat])], d, f"{fee}.00", "C", f"{d} 1{n % 10}:00:00"))
                procs.append((9999, code_num["D6010"], d, "1500.00", "TP", f"{d} 12:00:00"))  # planned, not done
                procs.append((9998, code_num["D2391"], old, "300.00", "C", f"{d} 07:00:00"))  # done earlier, edited today
                self.expect(loc, "treatment_plans", day, presented)
                self.expect(loc, "case_acceptance_pct", day, 100.0 * accepted / presented, accepted, presented)
                self.expect(loc, "adoption_pct", day, 100.0 * made / presented, made, presented)
                self.expect(loc, "procedures_implant", day, counts["implant"])
                self.expect(loc, "procedures_ortho", day, counts["ortho"])
                self.expect(loc, "procedures_restorative", day, counts["restorative"])
                self.expect(loc, "production", day, round(fees, 2))
                self.expect(loc, "patients_seen", day, patients)
                self.expect(loc, "production_per_patient", day, round(fees / patients, 2))
            with db.lock:
                c = db.conn
                c.execute("BEGIN")
                c.executemany("INSERT INTO treatplan (PatNum, DateTP, Heading, Note, TPStatus, TPType, SecDateEntry,"
                              " SecDateTEdit, DateTSigned) VALUES (?, ?, 'Plan', ?, ?, 'Insurance', ?, ?, ?)",
                              [(p[0], p[1], p[5], p[2], p[3][:10], p[3], p[4]) for p in plans])
                c.executemany("INSERT INTO procedurelog (PatNum, CodeNum, ProcDate, ProcFee, ProcStatus, ToothNum,"
                              " DateTP, DateTStamp, SecDateEntry) VALUES (?, ?, ?, ?, ?, '8', ?, ?, ?)",
                              [(p[0], p[1], p[2], p[3], p[4], p[2], p[5], p[5]) for p in procs])
                c.execute("COMMIT")

    # -- Zendesk -------------------------------------------------------------------------------
    def seed_zendesk(self, state: Any) -> None:
        """Tickets per location: some opened each day, some urgent, solved some days later or never."""
        from golive.tasks.gates.collect.sim.zendesk import Ticket

        tickets = list(state.tickets)
        next_id = len(tickets) + 1
        before = self.start - timedelta(days=5)
        for loc in self.locations:
            mine: list[Ticket] = []
            for day in [before, *self.dates()]:  # a few opened before the month, still open in it
                r = self.rng("zd", loc, day)
                for _ in range(r.randint(0, 5)):
                    created = datetime.combine(day, time(r.randint(0, 23), r.randint(0, 59)))
                    urgent = r.random() < 0.35
                    solved_in = r.choice((0, 1, 2, 5, None))
                    solved = None if solved_in is None else created + timedelta(days=solved_in, hours=r.randint(0, 3))
                    status = r.choice(("new", "open", "pending", "hold")) if solved is None else r.choice(("solved", "closed"))
                    mine.append(Ticket(next_id, created, "urgent" if urgent else r.choice(("low", "normal", "high")),
                                       status, [loc, "golive"], solved))
                    next_id += 1
            tickets += mine
            for day in self.dates():
                opened = sum(1 for t in mine if t.created.date() == day)
                critical = sum(1 for t in mine if t.priority == "urgent" and t.created.date() <= day
                               and (t.solved is None or t.solved.date() > day))
                self.expect(loc, "support_tickets", day, opened)
                self.expect(loc, "critical_bugs_open", day, critical)
        state.tickets = tickets

    # -- xAPI LRS ------------------------------------------------------------------------------
    def seed_lrs(self, state: Any, activity: str) -> dict[str, int]:
        """Staff per location complete the course on some day (or never); returns staff counts."""
        from golive.tasks.gates.collect.xapi import COMPLETED, LOCATION_EXT

        staff: dict[str, int] = {}
        n = 0
        for loc in self.locations:
            r = self.rng("lrs", loc)
            staff[loc] = r.randint(4, 15)
            done_on: list[date] = []
            took: dict[date, float] = {}  # seconds of completed attempts stored that day
            for person in range(staff[loc]):
                day = r.choice([*self.dates(), None])
                actor = {"objectType": "Agent", "mbox_sha1sum": f"{r.getrandbits(160):040x}"}
                verbs = [("http://adlnet.gov/expapi/verbs/attempted", self.start)]
                if day is not None:
                    verbs.append((COMPLETED, day))
                    if person % 3 == 0:
                        verbs.append((COMPLETED, day))  # completed twice: one learner still
                    done_on.append(day)
                for verb, when in verbs:
                    n += 1
                    stamp = datetime.combine(when, time(r.randint(0, 23), r.randint(0, 59))).strftime(
                        "%Y-%m-%dT%H:%M:%S.000Z")
                    st = {"id": f"00000000-0000-4000-8000-{n:012d}", "actor": actor,
                          "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
                          "object": {"objectType": "Activity", "id": activity},
                          "context": {"extensions": {LOCATION_EXT: loc}}, "timestamp": stamp, "stored": stamp}
                    if verb == COMPLETED and r.random() < 0.8:  # some LMSs leave the duration out
                        h, m = r.randint(0, 3), r.randint(0, 59)
                        st["result"] = {"completion": True, "duration": f"PT{h}H{m}M" if h else f"PT{m}M30.5S"}
                        took[when] = took.get(when, 0.0) + h * 3600 + m * 60 + (0 if h else 30.5)
                    state.statements.append(st)
            for day in self.dates():
                done = sum(1 for d in done_on if d <= day)
                self.expect(loc, "training_completion_pct", day, 100.0 * done / staff[loc], done, staff[loc])
                self.expect(loc, "training_hours", day, round(took.get(day, 0) / 3600, 4))
        return staff

    # -- probe.http results --------------------------------------------------------------------
    def seed_probes(self, store: Any, per_day: int = 24) -> None:
        from golive.tasks.gates.records import AvailabilitySampleRow

        rows = []
        for loc in self.locations:
            for day in self.dates():
                r = self.rng("probe", loc, day)
                failed = set(r.sample(range(per_day), r.choice((0, 0, 1, 2))))
                for i in range(per_day):
                    at = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=i * 24 * 60 // per_day)
                    rows.append(AvailabilitySampleRow(location_id=loc, target="http://platform.invalid/health",
                                                      checked_at=at, ok=i not in failed,
                                                      status_code=503 if i in failed else 200))
                ok = per_day - len(failed)
                self.expect(loc, "uptime_pct", day, 100.0 * ok / per_day, ok, per_day)
        with store.session() as session:
            session.add_all(rows)

    # -- vendor status page (Statuspage) --------------------------------------------------------
    def seed_statuspage(self, state: Any, component: str = "Treatment planning ({location})") -> dict[str, str]:
        """Incidents on each location's platform component: some days none, some an outage (major or
        partial, possibly past midnight), some only degraded (up); noise on another component.
        Returns the component name per location."""
        from golive.tasks.gates.collect.sim.statuspage import Incident
        from golive.tasks.gates.collect.statuspage import DAY_S, WEIGHT

        names = {loc: component.replace("{location}", loc) for loc in self.locations}
        portal = state.component("Patient portal")
        spans: dict[str, list[tuple[datetime, datetime, float]]] = {}
        for loc in self.locations:
            comp = state.component(names[loc])
            for day in self.dates():
                r = self.rng("status", loc, day)
                if r.random() < 0.2:  # starts 02:00-20:00, lasts <= 5 h: incidents of one component never overlap
                    start = datetime.combine(day, time(r.randint(2, 19), r.randint(0, 59)), tzinfo=UTC)
                    end = start + timedelta(minutes=r.randint(10, 300))
                    impact = r.choice(("critical", "major", "minor", "maintenance"))
                    state.incidents.append(Incident(f"inc{len(state.incidents) + 1:08d}", "Platform unavailable",
                                                    impact, start, end, [comp]))
                    spans.setdefault(loc, []).append((start, end, WEIGHT.get(impact, 0.0)))
                if r.random() < 0.05:
                    at = datetime.combine(day, time(r.randint(0, 22)), tzinfo=UTC)
                    state.incidents.append(Incident(f"inc{len(state.incidents) + 1:08d}", "Portal down", "critical", at,
                                                    at + timedelta(minutes=45), [portal]))
        if len(state.incidents) > 50:
            raise ValueError("seeded more incidents than the public API lists (50): shorten the period")
        for loc in self.locations:
            for day in self.dates():
                lo = datetime.combine(day, time(0), tzinfo=UTC)
                hi = lo + timedelta(days=1)
                down = 0.0
                for a, b, w in spans.get(loc, ()):
                    overlap = (min(b, hi) - max(a, lo)).total_seconds()
                    if overlap > 0:
                        down += w * overlap
                up = round(DAY_S - down, 3)
                self.expect(loc, "uptime_pct", day, 100.0 * up / DAY_S, up, float(DAY_S))
        return names

    # -- LMS course completion CSV (Moodle report_completion) ------------------------------------
    def write_lms_csv(self, path: Any) -> None:
        """A Moodle course completion CSV: staff per location complete on some day or never; one
        learner of another department; names and emails are invented staff, never patients."""
        import csv

        rows = []
        n = 0
        for loc in [*self.locations, "head-office"]:
            r = self.rng("lms", loc)
            staff = r.randint(4, 15) if loc != "head-office" else 1
            done_on: list[date | None] = []
            for _ in range(staff):
                n += 1
                day = r.choice([*self.dates(), None])
                done_on.append(day)
                stamp = "" if day is None else datetime.combine(day, time(r.randint(7, 18), r.randint(0, 59))).strftime(
                    "%d/%m/%y, %H:%M")
                rows.append([str(100 + n), f"Learner {n:04d}", f"learner{n:04d}@staff.invalid", loc,
                             "Completed" if day else "Not completed", stamp, stamp])
            if loc == "head-office":
                continue
            for day in self.dates():
                done = sum(1 for d in done_on if d is not None and d <= day)
                self.expect(loc, "training_completion_pct", day, 100.0 * done / staff, done, staff)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["ID", "Name", "Email address", "Department", "Platform basics",
                        "Platform basics - Completion date", "Course complete"])
            w.writerows(rows)

    # -- survey export -------------------------------------------------------------------------
    def write_survey(self, path: Any, every: int = 7) -> None:
        lines = ["location,day,champion_ready,providers,providers_refusing"]
        for loc in self.locations:
            for i, day in enumerate(self.dates()):
                if i % every:
                    continue
                r = self.rng("survey", loc, day)
                providers = r.randint(2, 8)
                refusing = r.randint(0, providers // 2)
                ready = int(r.random() < 0.7)
                lines.append(f"{loc},{day},{ready},{providers},{refusing}")
                self.expect(loc, "champion_ready", day, ready)
                self.expect(loc, "providers_refusing_pct", day, 100.0 * refusing / providers, refusing, providers)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
