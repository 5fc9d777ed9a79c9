"""`golive rehearse`: the whole program on a simulated clock, through the shipped runbooks.

One process, one Prefect server for every run, the store of the rehearsal's own home. The clock
(`tasks/foundation/clock.py`) is set to each simulated day before the runs of that day, so a run's
start, its "today" (lifecycle days, go-live slots) and its deadline checks are that day's. Human
decisions are supplied as inputs; metrics come from the seeded metric simulator
(`metrics.simulate`), PMS checks from the bundled Open Dental simulator (a second one on an old
version stands in for faulty offices in `pms-faults`). After every simulated day the program's
invariants (`tasks/program/invariants.py`) are checked over the store.

Choices (stated so they can be argued with):
- A wave goes live as one `wave-go-live` run per go-live slot day (3 a day; 5 a week in wave 3),
  each on its day with that day's locations, from the wave's go-live day (week 3 of its timeline)
  on. A run's lifecycle events carry its day, so the Gantt draws preparation from the wave's start
  to its first go-live. The wave's metrics are simulated when its first go-live is done, each
  location's from its own go-live slot.
- Each wave's gate runs as `golive schedule sync` schedules it (`tasks/program/schedules.py`): every
  simulated business day from the wave's first go-live until its verdict is GO (the deployed
  schedule is the same business-day rule: `Desired.runs_on` here, its RRULE on Prefect), with that
  schedule's parameters and `as_of` yesterday (simulated metrics are generated at go-live for the
  whole window, so "the last day with data" would read the future). While the period is still
  open, a verdict other than GO is provisional and the run stops after it (`waiting_for_data`).
  After the period an inconclusive verdict goes to the COO (`decide`), who proceeds; that recorded
  decision pauses the schedule as a GO does, so the gate is not run again. A
  rollback trigger seen by a daily gate's `rollback-check` rolls that location back the same day.
  The next wave starts when the plan says (after the wave's four weeks), or at a later GO.
- Wave 3's gate (the last) runs on past the last go-live until its verdict is final: a GO once every
  location has been live two weeks, or the COO's decision after its period closed; the rehearsal
  passes only with it (`Outcome.confirmed_on`).
- Integration validation is the PMS and DICOM-endpoint part (`examples/rehearsal/pms-validation.yaml`:
  version and credentials against the simulator, a C-ECHO to the DICOM receiver standing in for the
  platform's endpoint, recorded by `program.validation` as the full runbook records it); the CBCT
  sends and segmentation take minutes per location and are not rehearsed.
"""

from __future__ import annotations

import logging
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.foundation import clock, paths

log = logging.getLogger(__name__)

REHEARSAL = paths.EXAMPLES / "rehearsal"
PMS_RUNBOOK = REHEARSAL / "pms-validation.yaml"
LIFECYCLE_RUNBOOK = REHEARSAL / "lifecycle.yaml"
PILOT_OK = paths.EXAMPLES / "acme-dental" / "scenarios" / "pilot-ok.yaml"  # 18 training hours a location
WAVE_OK = REHEARSAL / "scenarios" / "wave-ok.yaml"  # 13: peer champions from earlier waves
WAVE_OUTAGE = REHEARSAL / "scenarios" / "wave-outage.yaml"
GATE_DAYS = 28  # the scenarios' data window after a wave's first go-live
OLD_OPEN_DENTAL = "21.4.12.0"  # below the playbook's Open Dental 22.1 minimum: the version check fails


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    outage_wave: int | None = None  # the wave whose second location loses the platform for 3 days
    pms_faults: int = 0  # wave-2 locations whose PMS fails validation (deferred, fixed, re-validated)
    not_exercised: frozenset[str] = frozenset()  # invariants this scenario gives nothing to check


SCENARIOS = {
    "baseline": Scenario("baseline", "every location healthy", not_exercised=frozenset({"rollback-scoped"})),
    "outage": Scenario("outage", "a 3-day outage in wave 2: NO-GO, scoped rollback of one location, recovery",
                       outage_wave=2),
    "pms-faults": Scenario("pms-faults", "two wave-2 offices on an Open Dental release below 22.1: validation "
                           "fails, deferred, upgraded, re-validated into wave 3", pms_faults=2,
                           not_exercised=frozenset({"rollback-scoped"})),
}


@dataclass
class Bar:
    """One row of the timeline (Gantt bar and calendar event)."""

    label: str
    group: str
    start: date
    end: date  # inclusive
    kind: str  # phase | prep | golive | gate | rollback | deferred


@dataclass
class GateWatch:
    """One wave's daily gate, as its schedule runs it: every day's verdict until GO."""

    wave: int
    runs: list[tuple[date, str]] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    provisional: bool = True  # the last verdict came while the period was still open
    decided_on: date | None = None  # the named role's recorded "proceed anyway": the schedule pauses

    @property
    def verdict(self) -> str | None:
        return self.runs[-1][1] if self.runs else None

    @property
    def go_on(self) -> date | None:
        return next((d for d, v in self.runs if v == "go"), None)


@dataclass
class Tally:
    checked: int = 0
    broken: int = 0
    days: int = 0
    first: str | None = None


@dataclass
class Outcome:
    locations: int
    start: date
    full_deployment: date | None
    weeks: int | None
    playbook: tuple[int, int] | None
    bars: list[Bar]
    invariants: dict[str, Tally]
    runs: int
    failed_runs: list[str]
    simulated_days: int
    wall_s: float
    notes: list[str] = field(default_factory=list)
    gates: dict[int, GateWatch] = field(default_factory=dict)
    run_s: float = 0.0
    check_s: float = 0.0

    @property
    def confirmed_on(self) -> date | None:
        """The day wave 3's gate closed the program: its GO, or the COO's recorded decision on an
        inconclusive verdict after its period; None when it did neither (or wave 3 was not reached)."""
        last = self.gates.get(3)
        return None if last is None else last.go_on or last.decided_on

    @property
    def weeks_ok(self) -> bool:
        return self.weeks is not None and self.playbook is not None and \
            self.playbook[0] <= self.weeks <= self.playbook[1]

    not_exercised: frozenset[str] = frozenset()

    @property
    def invariants_ok(self) -> bool:
        """Every invariant checked and never broken; one the scenario cannot exercise (no rollback
        in `baseline`) must show no check at all, and is reported "not exercised", not passed."""
        return bool(self.invariants) and all(
            t.broken == 0 and (t.checked == 0 if k in self.not_exercised else t.checked > 0)
            for k, t in self.invariants.items())


def playbook_weeks(locations: int) -> tuple[int, int] | None:
    """The playbook's weeks to full deployment: 16-20 for about 25 locations, 20-28 for about 50."""
    if locations <= 25:
        return (16, 20)
    if locations <= 50:
        return (20, 28)
    return None


def first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


class Rehearsal:
    """Drives the program day by day; every change goes through a runbook run."""

    def __init__(self, org_file: Path, seed: int, scenario: Scenario, start: date,
                 progress: Callable[[str], None] = lambda _m: None) -> None:
        from golive.flows.engine.org import load_org

        self.org_file, self.seed, self.scenario = org_file, seed, scenario
        self.org = load_org(str(org_file))
        self.start = first_monday(start)
        self.day = self.start
        self.progress = progress
        self.bars: list[Bar] = []
        self.tally: dict[str, Tally] = {}
        self.runs = 0
        self.failed: list[str] = []
        self.notes: list[str] = []
        self.checked_through = self.start - timedelta(days=1)
        self.connection: dict[str, Any] = {}
        self.old_connection: dict[str, Any] | None = None
        self.faulty: dict[str, Any] = {}
        self.dicom_endpoint: dict[str, Any] = {}
        self.full_deployment: date | None = None
        self.golive_span: dict[int, tuple[date, date]] = {}
        self.weekly = False  # from the recorded plan on
        self.override_next: str | None = None  # the reason for the next wave's go-live override
        self.until_wave: int | None = None  # stop after this wave's gate (a short rehearsal)
        self.run_s = self.check_s = 0.0  # wall time in runbook runs, in invariant checks
        self._head: int | None = None  # the audit log's head at the last invariant check
        self._results: list[Any] = []
        self.gates: dict[int, GateWatch] = {}  # each wave's daily gate runs (the schedule's)
        self.recovered: list[str] = []  # rolled back, root cause fixed: re-scheduled into wave 3
        self.remediating: dict[str, date] = {}  # deferred at readiness -> its remediation's last due day
        self.reassessed: list[str] = []  # fixed and re-assessed: scheduled into wave 3
        self.wave3_started = False
        self.pilot: list[str] = []

    # -- the clock and the invariants ---------------------------------------------------------

    def _instant(self) -> datetime:
        return datetime.combine(self.day, time(14, 0), UTC) + timedelta(seconds=self.runs)

    def advance(self, to: date) -> None:
        """Move the clock to `to`, checking the invariants after every simulated day passed."""
        while self.checked_through < to - timedelta(days=1):
            day = self.checked_through + timedelta(days=1)
            if self.weekly and day.weekday() == 0 and day > self.day:
                self.day = day  # the weekly program status (board, invariants, overdue reminders)
                self.run("program-status", {})
            self.scheduled_gates(day)
            self.reassess_due(day)
            self.checked_through = day
            self.check_invariants(day)
        self.day = max(self.day, to)

    def scheduled_gates(self, day: date) -> None:
        """On a business day, run each gate `golive schedule sync` has active (from its wave's first
        go-live until a GO), with the schedule's parameters; a rollback trigger it reports is acted on."""
        from golive.tasks.program import schedules
        from golive.tasks.store import Store

        if not self.golive_span:  # no wave live yet: no gate is scheduled
            return
        store = Store.open()
        try:  # the schedule says whether it runs that day (business days: not weekends, not holidays)
            wanted = [d for d in schedules.desired(store, getattr(self.org, "timezone", None) or "UTC", day,
                                                   getattr(self.org, "holiday_days", frozenset()))
                      if d.slug.endswith("-gate") and d.runs_on(day)]
        finally:
            store.dispose()
        for d in wanted:
            n = int(d.slug.removeprefix("golive-plan-wave").removesuffix("-gate"))
            self.day = max(self.day, day)
            params = {**d.parameters, "as_of": (day - timedelta(days=1)).isoformat()}
            if n == 2 and 1 in self.golive_span:
                # The schedule takes the training windows from the TRAINING/PARALLEL_RUN events; here
                # every lifecycle event of a wave carries its one run's day, while the scenarios record
                # training hours on go-live days: so the windows are the go-live spans.
                w1_first, w1_last = self.golive_span[1]
                params.update(training_start=self.golive_span[2][0].isoformat(),
                              wave1_training_start=w1_first.isoformat(), wave1_training_end=w1_last.isoformat())
            decisions = {"approvals": {"decide": self.approve("COO", "Proceed: the inconclusive criteria are data "
                                                                     "volume only")}}
            result = self.run(d.deployment.split("/")[0], params, decisions, expect="any")
            gate = self.step(result, "gate").get("outputs") or {}
            verdict = str(gate.get("verdict") or "none")
            watch = self.gates.setdefault(n, GateWatch(n))
            watch.runs.append((day, verdict))
            watch.provisional = bool(gate.get("waiting_for_data"))
            if self.step(result, "decide").get("state") == "completed":
                watch.decided_on = day  # recorded: the next sync pauses this gate (schedules.desired)
            affected = [a["location"] for a in (self.step(result, "rollback-check").get("outputs") or {})
                        .get("affected", []) if a["location"] not in watch.rolled_back]
            if affected:
                watch.rolled_back += affected
                self.recovered += self._rollback(affected, n)

    def reassess_due(self, day: date) -> None:
        """A deferred location whose remediation items are due is re-assessed that day: its owners
        have done the actions (the organization file now carries the pilot's facts for it), the
        `reassess-location` runbook scores it again and schedules it into wave 3, with which it goes
        live. Due after wave 3 has started, it stays deferred (no later wave)."""
        due = sorted(loc for loc, d in self.remediating.items() if d <= day)
        if not due or self.wave3_started or not self.pilot:
            return
        self.day = max(self.day, day)
        self._remediated_org(due)
        fixed = []
        for loc in due:
            del self.remediating[loc]
            result = self.run("reassess-location", {"location": loc, "wave": 3},
                              {"confirmations": {"remediation": "all"}})
            if result["state"] == "completed":
                fixed.append(loc)
                self.bars.append(Bar(f"{loc} re-assessed: into wave 3", "deferred", day, day, "deferred"))
        self.reassessed += fixed
        if fixed:
            self.notes.append(f"re-assessed after remediation into wave 3: {', '.join(fixed)}")

    def _remediated_org(self, fixed: list[str]) -> None:
        """The organization file after remediation: each fixed location takes the facts of the
        pilot's first location (network, workstations, staff, champion, systems), keeping its id,
        name, region and patient volume. The rehearsal's later runs read this file."""
        from ruamel.yaml import YAML

        from golive.flows.engine.org import load_org
        from golive.tasks.foundation.yamlsafe import load_yaml

        doc = dict(load_yaml(self.org_file))
        locs = list(doc["locations"])
        model = next(loc for loc in locs if loc["id"] == self.pilot[0])
        keep = ("id", "name", "region", "patients_per_day", "implant_share", "ortho_share", "monthly_revenue")
        doc["locations"] = [{**{k: v for k, v in model.items() if k not in keep},
                             **{k: v for k, v in loc.items() if k in keep}} if loc["id"] in fixed else loc
                            for loc in locs]
        target = paths.out_dir() / "rehearsal-inputs" / f"organization-remediated-{len(self.reassessed) + len(fixed)}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        yaml = YAML()
        yaml.default_flow_style = None
        with target.open("w", encoding="utf-8") as f:
            f.write(f"# {self.org_file.name} after remediation of {', '.join(fixed)} (golive rehearse).\n")
            yaml.dump(doc, f)
        self.org_file, self.org = target, load_org(str(target))

    def check_invariants(self, day: date) -> None:
        from sqlalchemy import func, select

        from golive.tasks.program import invariants, repository
        from golive.tasks.store import Store
        from golive.tasks.store.models import AuditEntryRow

        began = wallclock.perf_counter()
        store = Store.open()
        try:
            with store.session(readonly=True) as session:
                head = session.scalar(select(func.max(AuditEntryRow.seq)))
            if head == self._head and self._results:
                # Nothing was written since the last check (every store write has its audit entry), so
                # the store-only invariants give the same answer; the date-dependent one is evaluated anew.
                fresh = invariants.deadlines(store, repository.events(store), day)
                results = [fresh if r.name == fresh.name else r for r in self._results]
            else:
                results = invariants.check(store, today=day)
            self._head, self._results = head, results
        finally:
            store.dispose()
        self.check_s += wallclock.perf_counter() - began
        for r in results:
            t = self.tally.setdefault(r.name, Tally())
            t.days += 1
            t.checked += r.checked
            t.broken += len(r.broken)
            if r.broken and t.first is None:
                t.first = f"{day.isoformat()}: {r.broken[0]}"

    # -- runs ---------------------------------------------------------------------------------

    def run(self, runbook: Path | str, params: dict[str, Any], decisions: dict[str, Any] | None = None,
            *, expect: str = "completed") -> dict[str, Any]:
        from golive.flows.cli.local_run import collect_result
        from golive.flows.engine.entry import golive_runbook

        self.runs += 1
        name = Path(str(runbook)).stem
        key = f"rehearsal-{self.seed}-{self.scenario.name}-{self.runs:03d}-{name}"
        began = wallclock.perf_counter()
        with clock.simulated(self._instant):
            state = golive_runbook(runbook=str(runbook), parameters=params, run_key=key,
                                   decisions=decisions or {}, org=str(self.org_file), return_state=True)
        result = collect_result(state, name)
        self.run_s += wallclock.perf_counter() - began
        if expect != "any" and result["state"] != expect:
            failed = "; ".join(f"{s['key']}: {s.get('error')}" for s in result["steps"] if s["state"] == "failed")
            self.failed.append(f"{self.day} {name}: {result['state']} (expected {expect}) {failed or result.get('error', '')}"[:600])
        self.progress(f"{self.day} {name}: {result['state']}")
        return result

    @staticmethod
    def step(result: dict[str, Any], key: str) -> dict[str, Any]:
        return next((s for s in result["steps"] if s["key"] == key), {})

    def person(self, role: str) -> dict[str, str]:
        for p in getattr(self.org, "people", ()):
            if role in p.roles:
                return {"name": p.name, "role": role}
        return {"name": f"Rehearsal {role}", "role": role}

    def approve(self, role: str, comment: str = "") -> dict[str, str]:
        return {**self.person(role), **({"comment": comment} if comment else {})}

    # -- the program ----------------------------------------------------------------------------

    def execute(self, simulators: Any) -> None:
        self.connection, self.old_connection = simulators.connection, simulators.old_connection
        self.dicom_endpoint = simulators.dicom_endpoint
        baselines = self._baseline_file()
        self._pre_implementation(baselines)
        plan = self._readiness(baselines)
        waves = {int(n): list(ids) for n, ids in plan["scheduled"].items()}
        go_lives: dict[int, dict[str, date]] = {}
        deferred_fixed: list[str] = []
        start = self.start + timedelta(days=14)
        self.pilot = list(waves.get(1, []))
        for n in (1, 2, 3):
            self.advance(start)
            self.wave3_started = n == 3
            locations = list(waves.get(n, [])) + (deferred_fixed + self.recovered + self.reassessed if n == 3 else [])
            if not locations:
                continue
            failed = self._validate(n, locations)
            if failed:
                self._defer(failed, start)
                locations = [loc for loc in locations if loc not in failed]
                deferred_fixed += self._remediate(failed, start)
            days = self._wave(n, start, locations)
            go_lives[n] = days
            verdict, gate_day = self._await_gate(n, min(days.values()), max(days.values()))
            if n == 3:
                last = self.gates[3]
                self.notes.append(f"wave 3 gate {verdict.upper()} on {last.go_on or last.decided_on or self.day}" + (
                    ": full deployment confirmed" if verdict == "go" else
                    ", decided by the COO after its period closed" if last.decided_on else
                    ": full deployment NOT confirmed"))
                break
            if verdict == "inconclusive":
                # The named role decided to proceed (the gate's `decide` step); the next wave's go-live
                # still needs a stored GO, so that decision has to be a recorded override there.
                self.override_next = (f"Wave {n} gate inconclusive on {gate_day} (too little data); the COO decided "
                                      "to proceed and the CEO approves the next wave's go-live on that decision")
                self.notes.append(f"wave {n} gate INCONCLUSIVE on {gate_day}: proceeding on a recorded override")
            elif verdict != "go":
                self.notes.append(f"wave {n} gate still {verdict.upper()} on {gate_day}; the rehearsal stops")
                return
            if self.until_wave == n:
                self.advance(gate_day + timedelta(days=1))
                self.notes.append(f"stopped after wave {n}'s gate, as asked")
                return
            start = first_monday(gate_day)
        self.full_deployment = max(d for days in go_lives.values() for d in days.values()) if go_lives else None
        self.run("program-status", {})
        self.advance(self.day + timedelta(days=1))

    def _baseline_file(self) -> str:
        from golive.tasks.planning.generator import generate_baseline_rows, write_baseline_csv

        ids = [loc.id for loc in self.org.locations]
        end = self.start - timedelta(days=1)
        target = paths.out_dir() / "rehearsal-inputs" / f"baseline-{self.seed}.csv"
        write_baseline_csv(target, generate_baseline_rows(ids, seed=self.seed, period_end=end))
        return str(target)

    def _pre_implementation(self, baselines: str) -> None:
        d = {"approvals": {"approve-budget": self.approve("CFO", "Within budget"),
                           "approve-clinical": self.approve("CDO", "Protocols reviewed"),
                           "approve-technical": self.approve("VP of IT", "SSO, TLS 1.2+, BAA in place"),
                           "approve-timeline": self.approve("CEO"), "approve-board": self.approve("Board", "Approved")},
             "confirmations": {k: "all" for k in ("vendor-onboarding", "key-contacts", "data-access",
                                                   "enterprise-standards", "baseline-metrics-plan")}}
        self.run("pre-implementation", {"baseline_files": [baselines]}, d)
        self.bars.append(Bar("Pre-implementation", "program", self.start, self.start + timedelta(days=11), "phase"))

    def _readiness(self, baselines: str) -> dict[str, Any]:
        self.advance(self.start + timedelta(days=7))
        d = {"approvals": {"approve-pilot": self.approve("COO"),
                           "plan-override": self.approve("COO", "Wave 2 size kept: regional trainers, go-lives "
                                                                "stay at 3 a day (rehearsal decision)")}}
        result = self.run("readiness-assessment", {"start": self.start.isoformat(), "holidays": [],
                                                   "baseline_files": [baselines], "as_of": self.day.isoformat()}, d)
        self.bars.append(Bar("Readiness assessment", "program", self.day, self.day + timedelta(days=4), "phase"))
        plan = self.step(result, "record-plan").get("outputs") or {}
        self.weekly = True
        if not plan.get("scheduled"):
            raise RehearsalFailed(f"the readiness assessment recorded no wave plan: {self.failed[-1:]}")
        from golive.tasks.program import repository
        from golive.tasks.program.lifecycle import State
        from golive.tasks.store import Store

        store = Store.open()
        try:
            where = repository.locations(store)
        finally:
            store.dispose()
        for loc, w in sorted(where.items()):
            if w.state is State.DEFERRED and w.remediation:
                self.remediating[loc] = max(date.fromisoformat(str(i["due"])) for i in w.remediation)
        for d_ in plan.get("deferred", []):
            due = self.remediating.get(d_["location"], self.day + timedelta(days=56))
            self.bars.append(Bar(f"{d_['location']} deferred ({d_['reason']}): remediation", "deferred", self.day,
                                 due, "deferred"))
        return dict(plan)

    def _validate(self, wave: int, locations: list[str]) -> list[str]:
        from golive.tasks.program import repository
        from golive.tasks.store import Store

        if wave == 2 and self.scenario.pms_faults and self.old_connection is not None:
            for loc in locations[-self.scenario.pms_faults:]:  # offices still on an old Open Dental release
                self.faulty[loc] = self.old_connection
        for loc in locations:
            conn = self.faulty.get(loc, self.connection)
            self.run(PMS_RUNBOOK, {"location": loc, "pms_connection": conn, "imaging_endpoint": self.dicom_endpoint},
                     expect="failed" if loc in self.faulty else "completed")
        store = Store.open()
        try:
            results = repository.latest_validations(store)
        finally:
            store.dispose()
        failed = [loc for loc in locations if not results.get(loc, {}).get("passed")]
        if failed:
            self.notes.append(f"wave {wave}: integration validation failed at {', '.join(failed)}")
        return failed

    def _defer(self, failed: list[str], day: date) -> None:
        due = day + timedelta(days=21)
        remediation = [{"factor": "PMS version", "action": "upgrade Open Dental to 22.1 or later", "owner": "VP of IT",
                        "due": due.isoformat()}]
        self.run(LIFECYCLE_RUNBOOK, {"locations": failed, "to": "deferred", "remediation": remediation,
                                     "reason": "integration validation failed (PMS below the supported version)"})
        for loc in failed:
            self.bars.append(Bar(f"{loc} deferred: PMS upgrade", "deferred", day, due, "deferred"))

    def _remediate(self, failed: list[str], day: date) -> list[str]:
        """The offices upgrade (their connection now reaches the current simulator) and are
        re-validated; a passed validation puts them into wave 3."""
        for loc in failed:
            self.faulty.pop(loc, None)
        return list(failed)

    def _wave(self, n: int, start: date, locations: list[str]) -> dict[str, date]:
        """The wave goes live as one `wave-go-live` run per go-live slot day, each on its day with
        that day's locations: a location is set live on the platform on its own day, not on the
        wave's first (3 a day; 5 a week in wave 3, so wave 3 spans weeks)."""
        from golive.tasks.foundation.yamlsafe import load_yaml

        go_live = start + timedelta(days=14)  # week 3 of the wave's timeline
        self.advance(go_live)
        d = dict(load_yaml(paths.EXAMPLES / "acme-dental" / "wave1-inputs.yaml"))
        confirmations = {k: "all" for k in (d.get("confirmations") or {})}
        confirmations["earlier-wave-learnings"] = "all"
        days: dict[str, date] = {}
        scenario = WAVE_OUTAGE if self.scenario.outage_wave == n else PILOT_OK if n == 1 else WAVE_OK
        slots = self._slot_days(n, go_live, locations)
        planned = {loc: day for day, group in slots for loc in group}
        for day, group in slots:
            self.advance(day)
            approvals = {"go-live-approval": self.approve("VP of Ops")}
            if self.override_next:  # the decision covers every go-live day of the wave
                approvals["go-live-override"] = self.approve("CEO", self.override_next)
            # The runbook books its go-lives on start_date + 14 days: this day.
            result = self.run("wave-go-live", {"wave": n, "start_date": (day - timedelta(days=14)).isoformat(),
                                               "locations": group,
                                               "config_exports": str(self._config_exports(group))},
                              {"approvals": approvals, "confirmations": confirmations})
            days.update({k: date.fromisoformat(v) for k, v in
                         ((self.step(result, "go-live-slots").get("outputs") or {}).get("go_live_days") or {}).items()})
            if days and n not in self.golive_span:  # the wave is live: its metrics (the whole window) and gate
                self.golive_span[n] = (min(days.values()), min(days.values()))
                # Each location's metrics from its own go-live slot (wave 3's span weeks), none before.
                self.run("simulate-metrics", {"scenario": str(scenario), "locations": locations,
                                              "start": min(days.values()).isoformat(),
                                              "starts": {loc: d.isoformat() for loc, d in planned.items()},
                                              "until": (max(planned.values()) + timedelta(days=GATE_DAYS + 7))
                                              .isoformat()})
        self.override_next = None
        if len(days) < len(locations):
            raise RehearsalFailed(f"wave {n}: {len(locations) - len(days)} location(s) did not go live: "
                                  f"{self.failed[-1:]}")
        self.bars.append(Bar(f"Wave {n}: configure, train, parallel run ({len(locations)} locations)", f"wave {n}",
                             start, min(days.values()) - timedelta(days=1), "prep"))
        self.bars.append(Bar(f"Wave {n}: go-lives ({len(days)}, at most 3 a day"
                             + (", 5 a week)" if n == 3 else ")"), f"wave {n}", min(days.values()),
                             max(days.values()), "golive"))
        self.golive_span[n] = (min(days.values()), max(days.values()))
        return days

    def _slot_days(self, n: int, first: date, locations: list[str]) -> list[tuple[date, list[str]]]:
        """Each location's go-live slot from `first` on, as `program.transition` books it (the day
        and wave-3 week caps over the go-lives already recorded), grouped by day."""
        from golive.tasks.program import repository
        from golive.tasks.program.slots import SlotBook
        from golive.tasks.store import Store

        store = Store.open()
        try:
            book = SlotBook.of(repository.go_live_days(store), frozenset(getattr(self.org, "holiday_days", ())))
        finally:
            store.dispose()
        groups: dict[date, list[str]] = {}
        for loc in locations:
            day = first if book.why_full(first, n) is None else book.next_free(first, n)
            book.take(day, n)
            groups.setdefault(day, []).append(loc)
        return sorted(groups.items())

    def _config_exports(self, locations: list[str]) -> Path:
        """Each location's exported platform configuration: the enterprise standard (the example's)."""
        import json

        src = paths.EXAMPLES / "acme-dental" / "platform-config"
        sample = json.loads(next(iter(sorted(src.glob("*.json")))).read_text(encoding="utf-8"))
        target = paths.out_dir() / "rehearsal-inputs" / "platform-config"
        target.mkdir(parents=True, exist_ok=True)
        for loc in locations:
            (target / f"{loc}.json").write_text(json.dumps({**sample, "location": loc}), encoding="utf-8")
        return target

    def _await_gate(self, n: int, first: date, last: date) -> tuple[str, date]:
        """Let wave n's daily gate run (in `advance`) through the wave's four weeks, a week more
        after a rollback (its root cause is fixed), and at most two weeks beyond for a GO. The
        verdict then, and the day the next wave may start from (the plan's, or the GO's if later).
        Wave 3 (the last; its go-lives span weeks) is awaited from its last go-live: a GO needs every
        location live two weeks, and its period closes four weeks after the last go-live."""
        watch = self.gates.setdefault(n, GateWatch(n))
        if n < 3:
            planned = first + timedelta(days=GATE_DAYS)
            self.advance(planned)
            if watch.rolled_back:
                planned += timedelta(days=7)
                self.advance(planned)
            limit = planned + timedelta(days=14)
        else:
            planned = last + timedelta(days=14)
            self.advance(planned)
            limit = last + timedelta(days=GATE_DAYS + 7)  # a week past the close of its period
        # Until a GO, or a verdict after the period closed: an inconclusive one has then been put to
        # the named role (`decide`), who proceeds on it; a NO-GO may still turn with more data.
        while not (watch.verdict == "go" or (watch.verdict == "inconclusive" and not watch.provisional)) \
                and self.day < limit:
            self.advance(self.day + timedelta(days=1))
        verdict = watch.verdict or "none"
        decided = watch.go_on or self.day
        shown = f"GO on {watch.go_on}" if watch.go_on else verdict.upper()
        self.bars.append(Bar(f"Wave {n} gate: daily, {len(watch.runs)} run(s), {shown}", f"wave {n}", first,
                             watch.runs[-1][0] if watch.runs else first, "gate"))
        return verdict, max(planned, decided)

    def _rollback(self, affected: list[str], n: int) -> list[str]:
        from golive.tasks.foundation.yamlsafe import load_yaml

        done = []
        for loc in affected:
            trigger = datetime.combine(self.day, time(9, 0), UTC)
            d = dict(load_yaml(paths.EXAMPLES / "acme-dental" / "rollback-inputs.yaml"))
            self.run("rollback", {"locations": [loc], "reason": "availability below 95% for 3 days (rehearsal outage)",
                                  "triggered_at": trigger.isoformat()}, d)
            self.bars.append(Bar(f"{loc} rolled back, root cause fixed, re-scheduled", "rollback", self.day,
                                 self.day + timedelta(days=6), "rollback"))
            done.append(loc)
        self.notes.append(f"wave {n}: rolled back {', '.join(done)} alone; re-scheduled into wave 3")
        return done


class RehearsalFailed(Exception):
    """The rehearsal could not go on (a phase produced nothing to continue with)."""


def rehearse(org_file: Path, seed: int, scenario: Scenario, start: date, simulators: Any,
             progress: Callable[[str], None] = lambda _m: None, until_wave: int | None = None) -> Outcome:
    """Run the program once; the caller has set the rehearsal's home and started the simulators.
    `until_wave` stops after that wave's gate (no full deployment, so no weeks)."""
    from golive.flows.engine.prefect_env import without_heartbeats

    began = wallclock.perf_counter()
    r = Rehearsal(org_file, seed, scenario, start, progress)
    r.until_wave = until_wave
    try:
        with without_heartbeats():  # once: building the settings costs 0.16 s (measured)
            r.execute(simulators)
    except RehearsalFailed as exc:
        r.notes.append(f"stopped: {exc}")
    end = r.full_deployment
    weeks = None if end is None else -(-((end - r.start).days + 1) // 7)
    n = len(r.org.locations)
    return Outcome(locations=n, start=r.start, full_deployment=end, weeks=weeks, playbook=playbook_weeks(n),
                   bars=r.bars, invariants=r.tally, runs=r.runs, failed_runs=r.failed,
                   simulated_days=(r.checked_through - r.start).days + 1, wall_s=wallclock.perf_counter() - began,
                   notes=r.notes, not_exercised=scenario.not_exercised, gates=r.gates, run_s=r.run_s,
                   check_s=r.check_s)
