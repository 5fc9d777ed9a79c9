"""A real process work pool for tests: a deployment of the entry flow, `prefect worker start`
subprocesses, runs triggered through the API, and the processes a worker holds.

The deployment runs `golive.flows.engine.entry:golive_runbook` from this checkout (the package is
installed editable), so a test's runbook is a file path parameter. Workers poll every second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crash_support import children_of
from net_support import PortTaken, start_on_free_ports

ROOT = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).parent / "prefect"
ENTRYPOINT = "golive.flows.engine.entry:golive_runbook"
WORKER_ENTRY = f"{sys.executable} -m golive.flows.engine.worker_entry"


@contextmanager
def prefect_server_on_postgres(workdir: Path, admin_url: str) -> Iterator[str]:
    """`prefect server start` on a database of its own (the shared installation's backend; the
    SQLite test harness answers "database is locked" under several workers on a busy machine).
    Yields the API URL; stops the server and drops its database."""
    import psycopg
    from sqlalchemy import make_url

    name = f"golive_test_prefect_{uuid.uuid4().hex[:10]}"
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    db = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(workdir / "server-home"), "PREFECT_API_DATABASE_CONNECTION_URL": db,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"})
    log = open(workdir / "prefect-server.log", "ab")  # noqa: SIM115 - handed to the child

    def start(ports: tuple[int, ...]) -> tuple[subprocess.Popen[bytes], str]:
        url = f"http://127.0.0.1:{ports[0]}/api"
        proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(ports[0])],
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        end = time.monotonic() + 240
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise PortTaken(url)
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=3) as resp:
                    if resp.status == 200:
                        return proc, url
            except OSError:
                pass
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"prefect server did not answer within 240 s (log: {workdir / 'prefect-server.log'})")

    proc, url = start_on_free_ports(start)
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (a worker's flow-run processes and theirs)."""
    found, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        found += kids
        todo += kids
    return found


@dataclass
class WorkPool:
    """One process work pool with a deployment of the entry flow, and the workers started on it."""

    api_url: str
    env: dict[str, str]  # GOLIVE_* for the workers' flow runs
    workdir: Path
    name: str = field(default_factory=lambda: f"test-pool-{uuid.uuid4().hex[:8]}")
    deployment_id: Any = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # The flow-run process's command; None is Prefect's `python -m prefect.engine`. golive's own
    # deployments use WORKER_ENTRY (prefect.yaml).
    command: str | None = None
    pull_after: list[dict[str, Any]] = field(default_factory=list)  # more pull steps, after the directory

    def create(self) -> WorkPool:
        from prefect import get_client
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.workers.process import ProcessWorker

        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=self.name, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
            flow_id = client.create_flow_from_name("golive-runbook")
            # The checkout as working directory, as prefect.yaml's pull step does: with `path` instead,
            # Prefect 3.9's process worker copies the whole checkout (.venv included, ~1.8 GB) into a
            # temporary workspace per flow run, and a killed worker leaves those copies behind.
            pull = [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}, *self.pull_after]
            self.deployment_id = client.create_deployment(flow_id=flow_id, name=self.name, entrypoint=ENTRYPOINT,
                                                          pull_steps=pull, work_pool_name=self.name,
                                                          job_variables={"command": self.command} if self.command else None)
        return self

    def worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GOLIVE_"))}
        env.update(self.env)
        env.update({"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.workdir / "worker-home"),
                    "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
                    "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        return env

    def start_worker(self, name: str, limit: int | None = 4, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        limits = ["--limit", str(limit)] if limit else []
        proc = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", self.name, "--name", name, "--type",
                                 "process", *limits], env={**self.worker_env(), **(extra_env or {})}, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def trigger(self, parameters: Iterable[dict[str, Any]]) -> list[Any]:
        from prefect import get_client

        with get_client(sync_client=True) as client:
            return [client.create_flow_run_from_deployment(self.deployment_id, parameters=p).id for p in parameters]

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill the worker process only: its flow-run processes are left as a dying host leaves them.
        After a graceful signal the worker gets 20 s, then its whole process group is killed: in CI (stop
        26, twice) Prefect 3.9's `worker start` forwarded SIGTERM as SIGINT to its inner worker process,
        which did not exit within 120 s (its flow run had already paused and exited); alone, it exits in
        seconds. The tests need the worker gone, not its shutdown, and every second waited here is suite
        time."""
        proc = self.workers[name]
        proc.send_signal(sig)
        if sig == signal.SIGKILL:
            proc.wait(timeout=30)
        else:
            _wait_or_kill_group(proc, 20)

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.workers.values():
            _wait_or_kill_group(proc, 10)  # teardown: a worker slow to honour SIGTERM is killed


def _wait_or_kill_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """Give a signalled worker `grace_s` to exit, then SIGKILL its whole process group (see kill_worker)."""
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(ids: list[Any], done: Callable[[Any], bool], timeout: float, what: str) -> list[Any]:
    """Poll the flow runs until `done(run)` holds for all; AssertionError naming the laggards."""
    from prefect import get_client

    end = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(done(r) for r in runs):
                return runs
            if time.monotonic() > end:
                late = {str(r.id)[:8]: r.state.name if r.state else None for r in runs if not done(r)}
                raise AssertionError(f"{len(late)} of {len(ids)} runs not {what} after {timeout:.0f} s: {late}")
            time.sleep(1.0)


def suspended(run: Any) -> bool:
    return run.state is not None and run.state.is_paused() and run.state.name == "Suspended"


def final(run: Any) -> bool:
    return run.state is not None and run.state.is_final()


def kill_host(proc: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL a worker and every process below it, as when its host dies; returns the pids killed."""
    victims = [*descendants(proc.pid), proc.pid]
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)
    return victims


def wait_step_completed(env: dict[str, str], step_key: str, runs: int, timeout: float) -> None:
    """Until `runs` run keys have recorded `step_key` completed in the pool's SQLite store. Read with
    plain sqlite3, read-only: opening the Store would migrate."""
    import sqlite3

    db = env["GOLIVE_DATABASE_URL"].removeprefix("sqlite:///")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            try:
                done = con.execute("SELECT COUNT(DISTINCT run_key) FROM step_results WHERE step_key = ? "
                                   "AND state = 'completed'", (step_key,)).fetchone()[0]
            finally:
                con.close()
        except sqlite3.OperationalError:  # not created yet, or busy: look again
            done = 0
        if done >= runs:
            return
        time.sleep(1.0)
    raise AssertionError(f"{step_key} not completed by {runs} runs within {timeout} s")


def golive_env(workdir: Path, audit_key: str) -> dict[str, str]:
    """GOLIVE_* for flow runs on the workers: a SQLite store in `workdir`, the minimal organization."""
    return {"GOLIVE_HOME": str(workdir / ".golive"), "GOLIVE_OUT": str(workdir / "out"),
            "GOLIVE_ORG": str(ROOT / "tests" / "fixtures" / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": audit_key,
            "GOLIVE_DATABASE_URL": f"sqlite:///{workdir / 'golive.db'}", "GOLIVE_PDF": "off"}


def store_effects(env: dict[str, str]) -> tuple[dict[str, tuple[str, str]], dict[str, Counter[str]], Counter[str]]:
    """What a pool's runs left in the store: run id → (run key, state), audit events per run key
    (with `step.end:<step>` per step) and approvals rows per run key; the audit log must verify."""
    import json

    from sqlalchemy import select

    from golive.tasks.store import Store, verify_report
    from golive.tasks.store.models import ApprovalRow, AuditEntryRow, RunRow

    store = Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"])
    try:
        code, message = verify_report(store)
        assert code == 0, f"audit verify: {message}"
        with store.session(readonly=True) as s:
            runs = {r.run_id: (r.run_key, r.state) for r in s.scalars(select(RunRow))}
            events: dict[str, Counter[str]] = {}
            for e in s.scalars(select(AuditEntryRow).where(AuditEntryRow.run_id.in_(list(runs)))):
                key = runs[e.run_id][0]
                events.setdefault(key, Counter())[e.event] += 1
                if e.event == "step.end":
                    events[key]["step.end:" + json.loads(e.data)["step"]] += 1
            approvals = Counter(runs[a.run_id][0] for a in s.scalars(select(ApprovalRow)))
    finally:
        store.dispose()
    return runs, events, approvals


def approval_book(name: str) -> str:
    """A runbook of three steps around one approval (notify, CDO sign-off, notify): the shape the
    worker tests kill, suspend and resume. APPROVAL_DECISIONS answers its approval."""
    return f"""apiVersion: golive/v1
kind: Runbook
metadata: {{name: {name}}}
steps:
  - id: before
    uses: notify
    with: {{to: [CFO], subject: Before, message: Prepared.}}
  - id: sign-off
    uses: approval
    needs: [before]
    with: {{approvers: [CDO], question: Go?}}
  - id: after
    uses: notify
    needs: [sign-off]
    with: {{to: [CFO], subject: After, message: Done.}}
"""


APPROVAL_DECISIONS = {"approvals": {"sign-off": {"decision": "approve", "name": "Dana", "role": "CDO"}}}
APPROVAL_STEPS = ("before", "sign-off", "after")
