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
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crash_support import children_of

ROOT = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).parent / "prefect"
ENTRYPOINT = "golive.flows.engine.entry:golive_runbook"


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

    def create(self) -> WorkPool:
        from prefect import get_client
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.workers.process import ProcessWorker

        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=self.name, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
            flow_id = client.create_flow_from_name("golive-runbook")
            self.deployment_id = client.create_deployment(flow_id=flow_id, name=self.name, entrypoint=ENTRYPOINT,
                                                          path=str(ROOT), work_pool_name=self.name)
        return self

    def worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GOLIVE_"))}
        env.update(self.env)
        env.update({"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.workdir / "worker-home"),
                    "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
                    "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        return env

    def start_worker(self, name: str, limit: int = 4) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", self.name, "--name", name, "--type",
                                 "process", "--limit", str(limit)], env=self.worker_env(), cwd=ROOT,
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
        """Kill the worker process only: its flow-run processes are left as a dying host leaves them."""
        self.workers[name].send_signal(sig)
        self.workers[name].wait(timeout=30)

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.workers.values():
            try:
                proc.wait(timeout=20)
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
