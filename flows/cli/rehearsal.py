"""`golive rehearse`: the whole program on a simulated clock, through the shipped runbooks.

One process, one Prefect server for every run, the store of the rehearsal's own home. The clock
(`tasks/foundation/clock.py`) is set to each simulated day before the runs of that day, so a run's
start, its "today" (lifecycle days, go-live slots) and its deadline checks are that day's. Human
decisions are supplied as inputs; metrics come from the seeded metric simulator
(`metrics.simulate`), PMS checks from the bundled Open Dental simulator (a second one on an old
version stands in for faulty offices in `pms-faults`). After every simulated day the program's
invariants (`tasks/program/invariants.py`) are checked over the store.

Choices (stated so they can be argued with):
- A wave is one `wave-go-live` run for all its locations (the runbook takes the wave's list), run
  on the wave's go-live day (week 3 of its timeline); the go-lives then take slots (3 a day, 5 a
  week in wave 3). Its lifecycle events carry that run's day, so the Gantt draws preparation from
  the wave's start to its first go-live.
- Each wave's gate runs once its 28 days of data exist (the deployed schedule runs it daily; the
  verdict cannot change before the data window closes). Simulated metrics are generated at go-live.
- Integration validation is the PMS part (`examples/rehearsal/pms-validation.yaml`: version and
  credentials against the simulator, recorded by `program.validation` as the full runbook records
  it); the CBCT and segmentation part takes minutes per location and is not rehearsed.
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
    run_s: float = 0.0
    check_s: float = 0.0

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
        self.full_deployment: date | None = None
        self.golive_span: dict[int, tuple[date, date]] = {}
        self.weekly = False  # from the recorded plan on
        self.override_next: str | None = None  # the reason for the next wave's go-live override
        self.until_wave: int | None = None  # stop after this wave's gate (a short rehearsal)
        self.run_s = self.check_s = 0.0  # wall time in runbook runs, in invariant checks
        self._head: int | None = None  # the audit log's head at the last invariant check
        self._results: list[Any] = []

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
            self.checked_through = day
            self.check_invariants(day)
        self.day = max(self.day, to)

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
        baselines = self._baseline_file()
        self._pre_implementation(baselines)
        plan = self._readiness(baselines)
        waves = {int(n): list(ids) for n, ids in plan["scheduled"].items()}
        wave_starts: dict[int, date] = {}
        go_lives: dict[int, dict[str, date]] = {}
        deferred_fixed: list[str] = []
        recovered: list[str] = []
        start = self.start + timedelta(days=14)
        for n in (1, 2, 3):
            locations = list(waves.get(n, [])) + (deferred_fixed + recovered if n == 3 else [])
            if not locations:
                continue
            self.advance(start)
            wave_starts[n] = start
            failed = self._validate(n, locations)
            if failed:
                self._defer(failed, start)
                locations = [loc for loc in locations if loc not in failed]
                deferred_fixed += self._remediate(failed, start)
            days = self._wave(n, start, locations)
            go_lives[n] = days
            if n == 3:
                break
            first = min(days.values())
            gate_day = first + timedelta(days=GATE_DAYS)
            verdict, affected = self._gate(n, locations, first, gate_day, wave_starts)
            if verdict != "go" and affected:
                recovered += self._rollback(affected, n)
                kept = [loc for loc in locations if loc not in affected]
                gate_day += timedelta(days=7)  # the week the rollback's root cause is fixed
                verdict, _ = self._gate(n, kept, first, gate_day, wave_starts, window_from=first + timedelta(days=12))
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
        self.advance((self.full_deployment or self.day) + timedelta(days=7))
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
        for d_ in plan.get("deferred", []):
            self.bars.append(Bar(f"{d_['location']} deferred ({d_['reason']})", "deferred", self.day,
                                 self.day + timedelta(days=56), "deferred"))
        return dict(plan)

    def _validate(self, wave: int, locations: list[str]) -> list[str]:
        from golive.tasks.program import repository
        from golive.tasks.store import Store

        if wave == 2 and self.scenario.pms_faults and self.old_connection is not None:
            for loc in locations[-self.scenario.pms_faults:]:  # offices still on an old Open Dental release
                self.faulty[loc] = self.old_connection
        for loc in locations:
            conn = self.faulty.get(loc, self.connection)
            self.run(PMS_RUNBOOK, {"location": loc, "pms_connection": conn},
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
        from golive.tasks.foundation.yamlsafe import load_yaml

        go_live = start + timedelta(days=14)  # week 3 of the wave's timeline
        self.advance(go_live)
        d = dict(load_yaml(paths.EXAMPLES / "acme-dental" / "wave1-inputs.yaml"))
        approvals = {"go-live-approval": self.approve("VP of Ops")}
        if self.override_next:
            approvals["go-live-override"] = self.approve("CEO", self.override_next)
            self.override_next = None
        confirmations = {k: "all" for k in (d.get("confirmations") or {})}
        confirmations["earlier-wave-learnings"] = "all"
        result = self.run("wave-go-live", {"wave": n, "start_date": start.isoformat(), "locations": locations,
                                           "config_exports": str(self._config_exports(locations))},
                          {"approvals": approvals, "confirmations": confirmations})
        days = {k: date.fromisoformat(v) for k, v in
                ((self.step(result, "go-live-slots").get("outputs") or {}).get("go_live_days") or {}).items()}
        if not days:
            raise RehearsalFailed(f"wave {n} did not go live: {self.failed[-1:]}")
        self.bars.append(Bar(f"Wave {n}: configure, train, parallel run ({len(locations)} locations)", f"wave {n}",
                             start, min(days.values()) - timedelta(days=1), "prep"))
        self.bars.append(Bar(f"Wave {n}: go-lives ({len(days)}, at most 3 a day"
                             + (", 5 a week)" if n == 3 else ")"), f"wave {n}", min(days.values()),
                             max(days.values()), "golive"))
        scenario = WAVE_OUTAGE if self.scenario.outage_wave == n else PILOT_OK if n == 1 else WAVE_OK
        self.golive_span[n] = (min(days.values()), max(days.values()))
        self.run("simulate-metrics", {"scenario": str(scenario), "locations": locations,
                                      "start": min(days.values()).isoformat()})
        return days

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

    def _gate(self, n: int, locations: list[str], first: date, gate_day: date, wave_starts: dict[int, date],
              window_from: date | None = None) -> tuple[str, list[str]]:
        self.advance(gate_day)
        start = window_from or first
        params: dict[str, Any] = {"locations": locations, "pilot_start": start.isoformat(),
                                  "pilot_end": (gate_day - timedelta(days=1)).isoformat(),
                                  "baseline_start": (first - timedelta(days=28)).isoformat(),
                                  "baseline_end": (first - timedelta(days=1)).isoformat(),
                                  "as_of": gate_day.isoformat(), "next_wave_start": gate_day.isoformat()}
        if n == 2:
            # Training hours are recorded on the day training completes (go-live day in the scenarios).
            w1_first, w1_last = self.golive_span[1]
            params.update(wave1_locations=self._wave_locations(1), training_start=first.isoformat(),
                          wave1_training_start=w1_first.isoformat(), wave1_training_end=w1_last.isoformat())
        d = {"approvals": {"decide": self.approve("COO", "Proceed: the inconclusive criteria are data volume only")}}
        result = self.run(f"go-no-go-wave{n}", params, d, expect="any")
        gate = self.step(result, "gate").get("outputs") or {}
        verdict = str(gate.get("verdict") or "none")
        affected = [a["location"] for a in (self.step(result, "rollback-check").get("outputs") or {}).get("affected", [])]
        self.bars.append(Bar(f"Wave {n} gate: {verdict.upper()}", f"wave {n}", gate_day, gate_day, "gate"))
        return verdict, affected

    def _wave_locations(self, n: int) -> list[str]:
        from golive.tasks.program import repository
        from golive.tasks.store import Store

        store = Store.open()
        try:
            return sorted({e["location"] for e in repository.events(store) if e["to"] == "live" and e["wave"] == n})
        finally:
            store.dispose()

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
    began = wallclock.perf_counter()
    r = Rehearsal(org_file, seed, scenario, start, progress)
    r.until_wave = until_wave
    try:
        r.execute(simulators)
    except RehearsalFailed as exc:
        r.notes.append(f"stopped: {exc}")
    end = r.full_deployment
    weeks = None if end is None else -(-((end - r.start).days + 1) // 7)
    n = len(r.org.locations)
    return Outcome(locations=n, start=r.start, full_deployment=end, weeks=weeks, playbook=playbook_weeks(n),
                   bars=r.bars, invariants=r.tally, runs=r.runs, failed_runs=r.failed,
                   simulated_days=(r.checked_through - r.start).days + 1, wall_s=wallclock.perf_counter() - began,
                   notes=r.notes, not_exercised=scenario.not_exercised, run_s=r.run_s,
                   check_s=r.check_s)
