"""Crash-injection harness: run a runbook in a forked process, SIGKILL it at an instrumented point
(or after a random delay), resume under the same run key, and check every effect exists once.

Children fork from one `forkserver` that has golive and Prefect imported already, and talk to one
long-lived Prefect server (PREFECT_API_URL), so a kill costs about one flow run, not a server
start and an interpreter start. The forkserver is single-threaded, so forking it is safe.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RUNBOOK = FIXTURES / "runbooks" / "every-store-kind.yaml"
DECISIONS = {"approvals": {"sign-off": {"decision": "approve", "name": "Casey", "role": "CFO"}},
             "confirmations": {"confirm": "all"}}
# (kind, point) pairs the harness can kill at; "effect" is after the kind ran, before its commit.
KINDS = ("checklist", "approval", "notify", "metrics.simulate", "gate", "rollout.set", "compliance.vendor_request")
POINTS = ("before", "effect", "after")
ALL_POINTS = [f"{k}:{p}" for k in KINDS for p in POINTS]
PRELOAD = ["golive.flows.engine.entry", "golive.tasks.core.approval", "golive.tasks.core.checklist",
           "golive.tasks.compliance.kinds",
           "golive.tasks.core.notify", "golive.tasks.gates.kinds", "golive.flows.engine.step_task",
           "golive.tasks.pms.kinds"]
PMS_RUNBOOK = FIXTURES / "runbooks" / "pms-writeback.yaml"
# `removing`: the test plan was written and read back, `removing` is committed, the delete not yet made.
PMS_POINTS = ["pms.writeback:before", "pms.writeback:removing", "pms.writeback:effect", "pms.writeback:after"]
ATTACH_RUNBOOK = FIXTURES / "runbooks" / "pms-attachment.yaml"
# `intent`: the upload's intent is committed, the upload not yet made; `removing`: uploaded, read
# back, `removing` committed, the delete not yet made.
ATTACH_POINTS = ["pms.attachment:intent", "pms.attachment:removing", "pms.attachment:effect",
                 "pms.attachment:after"]

_CTX: Any = None


def _context(api_url: str, workdir: Path) -> Any:
    """The forkserver context; started once per test session with Prefect pointed at `api_url`."""
    global _CTX
    if _CTX is None:
        from golive.flows.engine import prefect_env

        os.environ["PREFECT_API_URL"] = api_url
        os.environ["PREFECT_HOME"] = str(workdir / "prefect-home")
        for key, value in prefect_env.embedded_defaults().items():
            os.environ.setdefault(key, value)
        _CTX = multiprocessing.get_context("forkserver")
        _CTX.set_forkserver_preload(PRELOAD)
    return _CTX


def _child(env: dict[str, str], runbook: str, run_key: str, decisions: dict[str, Any], out: str,
           parameters: dict[str, Any] | None = None) -> None:
    os.environ.update(env)
    from golive.flows.engine.entry import golive_runbook

    state = golive_runbook(runbook=runbook, parameters=parameters or {}, run_key=run_key, decisions=decisions,
                           return_state=True)
    Path(out).write_text(json.dumps({"type": state.type.value, "message": state.message}))


@dataclass
class Harness:
    api_url: str
    env: dict[str, str]  # GOLIVE_HOME, GOLIVE_OUT, GOLIVE_ORG, GOLIVE_AUDIT_KEY, GOLIVE_DATABASE_URL
    workdir: Path
    kills: int = 0
    log: list[str] = field(default_factory=list)
    full_run_s: float = 2.0  # how long the latest uninterrupted run took: random kills land inside it
    runbook: Path = RUNBOOK
    parameters: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=lambda: DECISIONS)
    # (env, run key, complete) -> None: asserts the key's effects exist at most / exactly once
    check: Callable[[dict[str, str], str, bool], None] | None = None

    def _check(self, run_key: str, complete: bool) -> None:
        if self.check is not None:
            self.check(self.env, run_key, complete)
        else:
            check_exactly_once(self.env, run_key, complete=complete)

    def start(self, run_key: str, crash_at: str | None = None) -> Any:
        env = dict(self.env)
        env["GOLIVE_CRASH_AT"] = crash_at or ""
        out = self.workdir / f"result-{run_key}-{time.monotonic_ns()}.json"
        proc = _context(self.api_url, self.workdir).Process(target=_child, args=(env, str(self.runbook), run_key, self.decisions, str(out),
                                                                       self.parameters))
        proc.start()
        proc.result_path = out  # type: ignore[attr-defined]
        return proc

    def run(self, run_key: str, crash_at: str | None = None, kill_after_s: float | None = None,
            timeout_s: float = 120) -> str:
        """One attempt: 'killed' (SIGKILL landed) or the flow's final state type ('COMPLETED', ...)."""
        t0 = time.monotonic()
        proc = self.start(run_key, crash_at)
        if kill_after_s is not None:
            proc.join(kill_after_s)
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout_s)
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
            raise AssertionError(f"run {run_key} ({crash_at}) hung for {timeout_s} s")
        assert not children_of(proc.pid), f"processes of killed run {proc.pid} left behind: {children_of(proc.pid)}"
        if proc.exitcode == -signal.SIGKILL:
            self.kills += 1
            self.log.append(f"{run_key}: killed at {crash_at or f'{kill_after_s:.2f} s'} "
                            f"({time.monotonic() - t0:.1f} s)")
            return "killed"
        assert proc.exitcode == 0, f"run {run_key} exited {proc.exitcode}"
        self.full_run_s = time.monotonic() - t0
        self.log.append(f"{run_key}: ran to the end ({self.full_run_s:.1f} s)")
        result = json.loads(Path(proc.result_path).read_text())
        if result["type"] != "COMPLETED":
            self.log.append(f"{run_key}: {result['type']}: {result['message']}")
        return str(result["type"])

    def chain(self, run_key: str, crash_points: list[str], rng: random.Random | None = None,
              random_kills: int = 0) -> None:
        """Kill at each point in turn (a point of a step already done does not fire: the run goes
        on), then random-delay kills, then resume to completion; check invariants after each."""
        for point in crash_points:
            state = self.run(run_key, crash_at=point)
            self._check(run_key, False)
            if state != "killed":
                assert state == "COMPLETED", f"{run_key} ended {state}: {self.log[-1]}"
                break
        for _ in range(random_kills):
            assert rng is not None
            state = self.run(run_key, kill_after_s=rng.uniform(0.1, 0.95) * self.full_run_s)
            self._check(run_key, False)
        final = self.run(run_key)
        assert final == "COMPLETED", f"resumed run of {run_key} ended {final}: {self.log[-1]}"
        self._check(run_key, True)


    def crashed_runs(self) -> int:
        """Runs marked `crashed` in this harness's store (kills that landed after the run started)."""
        from sqlalchemy import func, select

        from golive.tasks.store import Store
        from golive.tasks.store.models import RunRow

        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        store = Store.open()
        try:
            with store.session(readonly=True) as s:
                return int(s.execute(select(func.count()).select_from(RunRow).where(RunRow.state == "crashed")).scalar() or 0)
        finally:
            store.dispose()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (a killed run must leave none: no orphaned server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _store_facts(env: dict[str, str], run_key: str) -> tuple[dict[str, str], Counter[str], Counter[str], Counter[str]]:
    """(run states, audit events, step.end per step, completed results per step) of the key's runs;
    asserts `golive audit verify` passes."""
    from sqlalchemy import select

    from golive.tasks.store import Store, verify_report
    from golive.tasks.store.models import AuditEntryRow, RunRow, StepResultRow

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    store = Store.open()
    try:
        code, message = verify_report(store)
        assert code == 0, f"audit verify: {message}"
        with store.session(readonly=True) as s:
            runs = {r.run_id: r.state for r in s.scalars(select(RunRow).where(RunRow.run_key == run_key))}
            events: Counter[str] = Counter()
            step_ends: Counter[str] = Counter()
            for e in s.scalars(select(AuditEntryRow).where(AuditEntryRow.run_id.in_(list(runs)))):
                events[e.event] += 1
                if e.event == "step.end":
                    step_ends[json.loads(e.data)["step"]] += 1
            completed = Counter(r.step_key for r in s.scalars(select(StepResultRow).where(
                StepResultRow.run_key == run_key, StepResultRow.state == "completed")))
    finally:
        store.dispose()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return runs, events, step_ends, completed


def _count_creates(sim_db: Path, source: str, key: str, text: str) -> None:
    """Make the simulator's database count every row inserted into `source` (a trigger into a side
    table `test_<source>_creates`), so creates that a later DELETE removed still show."""
    import sqlite3

    con = sqlite3.connect(sim_db, timeout=30)
    con.executescript(f"""
        CREATE TABLE IF NOT EXISTS test_{source}_creates ({key} INTEGER, {text} TEXT);
        CREATE TRIGGER IF NOT EXISTS test_count_{source}_creates AFTER INSERT ON {source}
        BEGIN INSERT INTO test_{source}_creates VALUES (NEW.{key}, NEW.{text}); END;
    """)
    con.close()


def count_treatplan_creates(sim_db: Path) -> None:
    """Count every treatment plan the simulator creates, per idempotency marker (in its Note)."""
    _count_creates(sim_db, "treatplan", "TreatPlanNum", "Note")


def count_document_creates(sim_db: Path) -> None:
    """Count every document (image) the simulator stores, per marker (in its Description)."""
    _count_creates(sim_db, "document", "DocNum", "Description")


def attachment_checker(sim_db: Path, location: str, test_patient: str,
                       step: str = "pms-attachment") -> Callable[[dict[str, str], str, bool], None]:
    """The exactly-once check for the attachment runbook: one upload per run key (found by the
    intent's marker, deleted images included), no test image left once done, one result, one
    `done` intent, audit verifies."""
    import sqlite3

    from ruamel.yaml import YAML

    runbook = str(YAML(typ="safe").load(ATTACH_RUNBOOK.read_text())["metadata"]["name"])

    def check(env: dict[str, str], run_key: str, complete: bool) -> None:
        from golive.tasks.pms.writeback import MARKER_PREFIX
        from golive.tasks.store.intents import intent_key

        key = intent_key(run_key, step, "pms.attachment", runbook, location, _pseudo(env, location, test_patient), "1")
        marker = MARKER_PREFIX + key[:32]
        con = sqlite3.connect(sim_db, timeout=30)
        creates = con.execute("SELECT COUNT(*) FROM test_document_creates WHERE Description = ?", (marker,)).fetchone()[0]
        left = con.execute("SELECT COUNT(*) FROM document WHERE Description LIKE 'golive-idem:%'").fetchone()[0]
        con.close()
        _assert_pms_effect(env, run_key, step, "test images uploaded", creates, left, complete)
        if complete:
            assert _intent_states(env, run_key) == ["done"], _intent_states(env, run_key)

    return check


def _assert_pms_effect(env: dict[str, str], run_key: str, step: str, what: str, creates: int, left: int,
                       complete: bool) -> None:
    """The PMS-side effect of one write-check step: created at most once (exactly once and removed
    again when `complete`), and the step recorded as the store says."""
    runs, events, step_ends, completed = _store_facts(env, run_key)
    assert creates <= 1, f"{creates} {what} for run key {run_key}"
    assert completed[step] <= 1 and step_ends[step] == completed[step], (completed, step_ends)
    if complete:
        assert creates == 1, f"{creates} {what} for run key {run_key} (want 1)"
        assert left == 0, f"{left} left in the PMS after the check ({what})"
        assert completed[step] == 1 and events["pms.check"] == 1, (completed, events)
        assert "running" not in runs.values(), f"runs left running: {runs}"


def _pseudo(env: dict[str, str], location: str, patient: str) -> str:
    from golive.tasks.pms.pseudonym import pseudonym

    saved = os.environ.get("GOLIVE_PSEUDONYM_KEY")
    os.environ["GOLIVE_PSEUDONYM_KEY"] = env["GOLIVE_PSEUDONYM_KEY"]
    try:
        return pseudonym("opendental", location, patient)
    finally:
        if saved is None:
            os.environ.pop("GOLIVE_PSEUDONYM_KEY", None)
        else:
            os.environ["GOLIVE_PSEUDONYM_KEY"] = saved


def _intent_states(env: dict[str, str], run_key: str) -> list[str]:
    """The states of the key's intents (tasks/store/intents.py)."""
    from sqlalchemy import select

    from golive.tasks.store import Store
    from golive.tasks.store.intents import IntentRow

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    store = Store.open()
    try:
        with store.session(readonly=True) as s:
            return sorted(r.state for r in s.scalars(select(IntentRow).where(IntentRow.run_key == run_key)))
    finally:
        store.dispose()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


DICOM_RUNBOOK = FIXTURES / "runbooks" / "dicom-send.yaml"
# `intent`: committed, nothing sent; `sent`: every instance sent, the intent not yet `done`.
DICOM_POINTS = ["imaging.dicom_send:intent", "imaging.dicom_send:sent", "imaging.dicom_send:effect",
                "imaging.dicom_send:after"]
# Orthanc calls this Lua function for every instance it receives, a repeat of a stored one included,
# before it stores it (Orthanc Book, "Server-side scripting with Lua", filtering incoming DICOM
# instances: `ReceivedInstanceFilter`, true = keep). Checked on Orthanc 1.10.1: two sends of 3
# instances log 6 lines and store 3.
COUNT_LUA = """
function ReceivedInstanceFilter(dicom, origin, info)
  local f = io.open(COUNT_FILE, "a")
  f:write(dicom["SOPInstanceUID"] .. "\\n")
  f:close()
  return true
end
"""


def start_counting_orthanc(folder: Path) -> tuple[Any, Path, Any]:
    """An Orthanc PACS on free ports that appends every C-STOREd SOP Instance UID to a file:
    (peer, that file, the process). Skips the test when Orthanc is not installed."""
    from imaging_support import start_orthanc

    counts = folder / "orthanc-received.txt"
    lua = folder / "count.lua"
    lua.write_text(f"COUNT_FILE = {json.dumps(str(counts))}\n" + COUNT_LUA)
    peer, proc = start_orthanc(folder, "golive-crash", (lua,))
    return peer, counts, proc


def dicom_checker(counts: Path, sop_uids: set[str], step: str = "cbct-send") -> Callable[[dict[str, str], str, bool], None]:
    """One C-STORE per instance at the peer (at most one while incomplete), one result, audit verifies."""

    def check(env: dict[str, str], run_key: str, complete: bool) -> None:
        received = Counter(counts.read_text().split()) if counts.exists() else Counter()
        repeated = {uid: n for uid, n in received.items() if n > 1}
        assert not repeated, f"{len(repeated)} instance(s) C-STOREd more than once: {sorted(repeated.values())}"
        assert set(received) <= sop_uids, "the peer received instances not in the series"
        runs, events, step_ends, completed = _store_facts(env, run_key)
        assert completed[step] <= 1 and step_ends[step] == completed[step], (completed, step_ends)
        if complete:
            assert set(received) == sop_uids, f"{len(sop_uids - set(received))} instance(s) never arrived"
            assert completed[step] == 1 and events["imaging.dicom_send"] == 1, (completed, events)
            assert _intent_states(env, run_key) == ["done"], _intent_states(env, run_key)
            assert "running" not in runs.values(), f"runs left running: {runs}"

    return check


DELETION_RUNBOOK = FIXTURES / "runbooks" / "platform-deletion.yaml"
# `intent`: committed, nothing called; `requested`: seeded and the erasure requested, intent not `done`.
DELETION_POINTS = ["compliance.deletion_test:intent", "compliance.deletion_test:requested",
                   "compliance.deletion_test:effect", "compliance.deletion_test:after"]


def deletion_checker(requests: Callable[[], int], step: str = "deletion") -> Callable[[dict[str, str], str, bool], None]:
    """One erasure request at the platform per run key (`requests()`: the simulator's count), one result."""

    def check(env: dict[str, str], run_key: str, complete: bool) -> None:
        made = requests()
        runs, events, step_ends, completed = _store_facts(env, run_key)
        assert made <= 1, f"{made} erasure requests for run key {run_key}"
        assert completed[step] <= 1 and step_ends[step] == completed[step], (completed, step_ends)
        if complete:
            assert made == 1, f"{made} erasure requests for run key {run_key} (want 1)"
            assert completed[step] == 1 and events["compliance.deletion_test"] == 1, (completed, events)
            assert _intent_states(env, run_key) == ["done"], _intent_states(env, run_key)
            assert "running" not in runs.values(), f"runs left running: {runs}"

    return check


def pms_checker(sim_db: Path, location: str, test_patient: str, step: str = "pms-writeback") -> Callable[[dict[str, str], str, bool], None]:
    """The exactly-once check for the write-back runbook: one create per run key (at most one while
    the key's run is incomplete), no test plan of the key left once done, one result, audit verifies."""
    import sqlite3

    from ruamel.yaml import YAML

    runbook = str(YAML(typ="safe").load(PMS_RUNBOOK.read_text())["metadata"]["name"])

    def check(env: dict[str, str], run_key: str, complete: bool) -> None:
        from golive.tasks.pms.writeback import WritebackKey

        marker = WritebackKey(runbook, location, step, _pseudo(env, location, test_patient), "1", run_key).marker
        con = sqlite3.connect(sim_db, timeout=30)
        creates = con.execute("SELECT COUNT(*) FROM test_treatplan_creates WHERE Note LIKE ?", (f"%{marker}%",)).fetchone()[0]
        left = con.execute("SELECT COUNT(*) FROM treatplan WHERE Note LIKE '%golive-idem:%'").fetchone()[0]
        con.close()
        _assert_pms_effect(env, run_key, step, "test plans created", creates, left, complete)

    return check


def check_exactly_once(env: dict[str, str], run_key: str, *, complete: bool) -> None:
    """Every effect of the key's runs at most once (exactly once when `complete`), audit verifies,
    no run left `running` unless it is the live one."""
    from sqlalchemy import func, select

    from golive.tasks.compliance.records import EvidenceRow
    from golive.tasks.gates.records import GateVerdictRow
    from golive.tasks.store import Store
    from golive.tasks.store.models import ApprovalRow, AuditEntryRow, RunRow, StepResultRow

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    store = Store.open()
    try:
        from golive.tasks.store import verify_report

        code, message = verify_report(store)  # what `golive audit verify` prints
        assert code == 0, f"audit verify: {message}"
        with store.session(readonly=True) as s:
            runs = {r.run_id: r.state for r in s.scalars(select(RunRow).where(RunRow.run_key == run_key))}
            ids = list(runs)
            events = Counter()
            step_ends: Counter[str] = Counter()
            for e in s.scalars(select(AuditEntryRow).where(AuditEntryRow.run_id.in_(ids))):
                data = json.loads(e.data)
                events[e.event] += 1
                if e.event == "step.end":
                    step_ends[data["step"]] += 1
            approvals = s.scalars(select(ApprovalRow).where(ApprovalRow.run_id.in_(ids))).all()
            completed = Counter(r.step_key for r in s.scalars(select(StepResultRow).where(
                StepResultRow.run_key == run_key, StepResultRow.state == "completed")))
            verdicts = s.scalars(select(GateVerdictRow).where(GateVerdictRow.run_id.in_(ids))).all()
            # The vendor request is keyed by its content (subject, location, day), so every key of a
            # harness shares one row: at most one row and one audit entry in the whole store, ever.
            requests = s.scalars(select(EvidenceRow).where(EvidenceRow.subject == "patterson-enablement")).all()
            request_entries = s.scalar(select(func.count()).select_from(AuditEntryRow).where(
                AuditEntryRow.event == "compliance.evidence"))
    finally:
        store.dispose()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    once = {"approval.decided": 1, "checklist.confirmed": 1, "notify": 2, "metrics.simulated": 1, "rollout.set": 1}
    for event, n in once.items():
        assert events[event] <= n, f"{event} ×{events[event]} (want {n}) for {run_key}"
        if complete:
            assert events[event] == n, f"{event} ×{events[event]} (want {n}) for {run_key}"
    assert len(approvals) == events["approval.decided"], "an approvals row without its audit entry (or the reverse)"
    assert len(requests) == request_entries <= 1, f"vendor request: {len(requests)} rows, {request_entries} audit entries"
    if complete:
        assert len(requests) == 1, "the vendor request was never recorded"
    # The gate observes the store, so a resume re-evaluates it; every verdict has its step result
    # and its audit entry, and no completed gate step lacks its verdict.
    assert len(verdicts) == events["gate.verdict"] == completed["gate"], (
        f"gate: {len(verdicts)} verdicts, {events['gate.verdict']} audit entries, {completed['gate']} results")
    for key, n in completed.items():
        if key != "gate":
            assert n <= 1, f"step {key} completed {n} times under {run_key}"
            assert step_ends[key] == n, f"step {key}: {n} results, {step_ends[key]} step.end entries"
    if complete:
        assert set(completed) == {"confirm", "tell[loc-a]", "tell[loc-b]", "simulate", "request", "sign-off", "gate",
                                  "go-live"}, completed
        assert "running" not in runs.values(), f"runs left running: {runs}"


def _lease_child(env: dict[str, str], keys: list[str], barrier: Any, out: str) -> None:
    """Try each key's lease at the same instant as the other child (behind `barrier`)."""
    os.environ.update(env)
    from golive.tasks.store import Store
    from golive.tasks.store.leases import RunKeyBusy, acquire

    store = Store.open()
    results = []
    for key in keys:
        barrier.wait(30)
        try:
            acquire(store, key)
            results.append("got")
        except RunKeyBusy as exc:
            results.append(str(exc))
        barrier.wait(30)  # the winner stays alive (and its lease live) until both have tried
    store.dispose()
    Path(out).write_text(json.dumps(results))


def lease_race(api_url: str, workdir: Path, env: dict[str, str], keys: list[str]) -> list[list[str]]:
    """Two processes race for each key's lease; returns each process's outcome per key."""
    return _behind_barrier(api_url, workdir, _lease_child, (env, keys), "lease", 120)


def _run_child(env: dict[str, str], run_key: str, barrier: Any, out: str) -> None:
    os.environ.update(env)
    os.environ["GOLIVE_CRASH_AT"] = ""
    os.environ["GOLIVE_PAUSE_AT"] = "checklist:before=3"  # the winner holds the key while the other tries
    from golive.flows.engine.entry import golive_runbook

    barrier.wait(60)
    t0 = time.time()
    state = golive_runbook(runbook=str(RUNBOOK), parameters={}, run_key=run_key, decisions=DECISIONS,
                           return_state=True)
    Path(out).write_text(json.dumps({"type": state.type.value, "message": state.message, "span": [t0, time.time()]}))


def run_race(api_url: str, workdir: Path, env: dict[str, str], run_key: str) -> list[dict[str, Any]]:
    """Two whole runs of one key started behind a barrier; returns both final states."""
    return _behind_barrier(api_url, workdir, _run_child, (env, run_key), f"race-{run_key}", 180)


def _behind_barrier(api_url: str, workdir: Path, target: Any, args: tuple[Any, ...], name: str,
                    timeout_s: float) -> list[Any]:
    """Two forked children run `target(*args, barrier, out)` released together; their JSON outputs."""
    ctx = _context(api_url, workdir)
    barrier = ctx.Barrier(2)
    outs = [workdir / f"{name}-{i}.json" for i in range(2)]
    procs = [ctx.Process(target=target, args=(*args, barrier, str(o))) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout_s)
        assert p.exitcode == 0, f"{name} child exited {p.exitcode}"
    return [json.loads(o.read_text()) for o in outs]
