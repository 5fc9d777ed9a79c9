"""Recovery from a dead worker: SIGKILL a worker host (the worker and its flow-run processes) with
runs claimed, then `golive runs reconcile --rerun`: runs it never started go back to the pool,
runs it had started are marked Crashed and started again from the deployment under their run
key; every run key ends with one completed run, each effect exactly once, and the store agrees
with Prefect (a second reconcile finds nothing to do). A run claimed by a worker that died before
its process started (Pending) goes back to Scheduled and a live worker completes it.

A real Prefect server on PostgreSQL, a process work pool, `prefect worker start` subprocesses,
the store on SQLite shared by the flow-run processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from worker_support import (
    APPROVAL_DECISIONS,
    APPROVAL_STEPS,
    WorkPool,
    approval_book,
    final,
    golive_env,
    kill_host,
    store_effects,
    wait_for,
    wait_step_completed,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
GOLIVE = Path(sys.executable).parent / "golive"
BOOK = approval_book("reconcile-me")
DECISIONS = APPROVAL_DECISIONS
STEPS = APPROVAL_STEPS
RUNS = 3
PREFECT_TO_STORE = {"COMPLETED": "completed", "CRASHED": "crashed", "FAILED": "failed", "CANCELLED": "cancelled"}


@pytest.fixture
def pool(api_url: str, tmp_path: Path) -> Iterator[WorkPool]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from golive.tasks.store import Store

    env = {**golive_env(tmp_path, "reconcile-test-key"), "GOLIVE_LEASE_TTL_S": "5"}
    Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"]).dispose()
    with temporary_settings({PREFECT_API_URL: api_url}):
        work = WorkPool(api_url=api_url, env=env, workdir=tmp_path).create()
        try:
            yield work
        finally:
            work.stop()


def _reconcile(pool: WorkPool) -> dict[str, Any]:
    env = {**pool.worker_env(), "PREFECT_HOME": str(pool.workdir / "cli-home")}
    done = subprocess.run([str(GOLIVE), "runs", "reconcile", "--rerun", "--stale", "3", "--worker-timeout", "20",
                           "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def _store(env: dict[str, str]) -> tuple[dict[str, tuple[str, str]], dict[str, Counter[str]]]:
    runs, events, _approvals = store_effects(env)
    return runs, events


def test_killed_worker_runs_recovered_once(pool: WorkPool, tmp_path: Path) -> None:
    from prefect import get_client

    book = tmp_path / "reconcile-me.yaml"
    book.write_text(BOOK)
    keys = [f"rec-{i}" for i in range(RUNS)]
    # Worker 1's runs hold just before the approval (tasks/foundation/crash.py), so the kill lands
    # after their first effect and before the rest, on every run.
    first = pool.start_worker("worker-1", limit=RUNS, extra_env={"GOLIVE_PAUSE_AT": "approval:before=600"})
    ids = pool.trigger({"runbook": str(book), "run_key": k, "decisions": DECISIONS} for k in keys)
    wait_step_completed(pool.env, "before", RUNS, 300)
    kill_host(first)

    pool.start_worker("worker-2", limit=RUNS)
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + 150
    while True:  # worker-1's heartbeat must age past --worker-timeout before its runs count as orphaned
        reports.append(_reconcile(pool))
        with get_client(sync_client=True) as client:
            runs_now = [client.read_flow_run(i) for i in ids]
        orphans = [str(r.id) for r in runs_now if r.state.type.value in ("PENDING", "RUNNING")
                   and (r.labels or {}).get("prefect.worker.name") == "worker-1"]
        if not orphans:
            break
        assert time.monotonic() < deadline, f"runs of the dead worker not recovered: {orphans}; {reports}"
        time.sleep(3)
    reruns = {old: new for r in reports for old, new in r["rerun"].items()}
    all_ids = ids + list(reruns.values())
    wait_for(all_ids, final, 300, "finished")

    runs, events = _store(pool.env)
    with get_client(sync_client=True) as client:
        prefect = {str(i): client.read_flow_run(i).state.type.value for i in all_ids}
    for key in keys:
        mine = {rid: state for rid, (k, state) in runs.items() if k == key}
        assert list(mine.values()).count("completed") == 1, (key, mine, prefect)
        got = events[key]
        assert {s: got[f"step.end:{s}"] for s in STEPS} == {s: 1 for s in STEPS}, (key, got)
        assert got["notify"] == 2 and got["approval.decided"] == 1, (key, got)
    for rid, (_key, state) in runs.items():  # the store agrees with Prefect
        assert PREFECT_TO_STORE.get(prefect.get(rid, ""), state) == state, (rid, state, prefect.get(rid))
    again = _reconcile(pool)
    assert (again["store_updated"], again["crashed"], again["rescheduled"], again["rerun"]) == ({}, [], [], {}), again
    assert any(r["crashed"] or r["rescheduled"] for r in reports), f"nothing was recovered: {reports}"
    print(json.dumps({"reports": reports, "prefect": prefect}, indent=1))  # what the pass did, for the note


QUICK_BOOK = """apiVersion: golive/v1
kind: Runbook
metadata: {name: claimed-not-started}
steps:
  - id: only
    uses: notify
    with: {to: [CFO], subject: Once, message: Sent once.}
"""
# The flow-run process sleeps in a pull step, so the run sits in Pending (claimed, its process not
# at its first state change) long enough to kill its worker host there.
SLOW_START = {"prefect.deployments.steps.run_shell_script": {"script": "sleep 12"}}


def _worker_heartbeat_age(pool: WorkPool, name: str) -> float:
    from datetime import UTC, datetime

    from prefect import get_client

    with get_client(sync_client=True) as client:
        beat = next(w.last_heartbeat_time for w in client.read_workers_for_work_pool(pool.name) if w.name == name)
    return (datetime.now(UTC) - beat).total_seconds()


def test_claimed_but_not_started_goes_back_to_the_pool(api_url: str, tmp_path: Path) -> None:
    """Pending, labelled with a worker whose heartbeat stopped: one reconcile pass puts it back to
    Scheduled, and a live worker completes it."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from golive.tasks.store import Store

    env = {**golive_env(tmp_path, "reconcile-test-key"), "GOLIVE_LEASE_TTL_S": "5"}
    Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"]).dispose()
    book = tmp_path / "claimed.yaml"
    book.write_text(QUICK_BOOK)
    with temporary_settings({PREFECT_API_URL: api_url}):
        pool = WorkPool(api_url=api_url, env=env, workdir=tmp_path, pull_after=[SLOW_START]).create()
        try:
            first = pool.start_worker("worker-1", limit=1)
            [run_id] = pool.trigger([{"runbook": str(book), "run_key": "claimed-1"}])
            # The worker proposes Pending, then labels the run with its name: wait for both.
            [claimed] = wait_for([run_id], lambda r: r.state.type.value not in ("SCHEDULED", "PENDING")
                                 or "prefect.worker.name" in (r.labels or {}), 120, "claimed")
            assert claimed.state.type.value == "PENDING", claimed.state
            assert (claimed.labels or {}).get("prefect.worker.name") == "worker-1", claimed.labels
            kill_host(first)
            deadline = time.monotonic() + 60
            while _worker_heartbeat_age(pool, "worker-1") <= 8:  # dead for --worker-timeout 8
                assert time.monotonic() < deadline, "worker-1's heartbeat did not age"
                time.sleep(1)
            with get_client(sync_client=True) as client:
                assert client.read_flow_run(run_id).state.type.value == "PENDING"
            env_cli = {**pool.worker_env(), "PREFECT_HOME": str(pool.workdir / "cli-home")}
            done = subprocess.run([str(GOLIVE), "runs", "reconcile", "--stale", "3", "--worker-timeout", "8",
                                   "--json"], env=env_cli, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
            report = json.loads(done.stdout)
            assert report["rescheduled"] == [str(run_id)] and report["crashed"] == [], report
            with get_client(sync_client=True) as client:
                assert client.read_flow_run(run_id).state.type.value == "SCHEDULED"
            pool.start_worker("worker-2", limit=1)
            [after] = wait_for([run_id], final, 180, "finished")
        finally:
            pool.stop()
    assert after.state.type.value == "COMPLETED", after.state
    assert (after.labels or {}).get("prefect.worker.name") == "worker-2", after.labels
    runs, events, _approvals = store_effects(env)
    assert runs == {str(run_id): ("claimed-1", "completed")}, runs
    assert events["claimed-1"]["notify"] == 1 and events["claimed-1"]["step.end:only"] == 1, events
