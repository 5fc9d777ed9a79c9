"""A worker SIGKILLed alone (its flow-run processes left running), as in the 100-run scale test.

The flow-run process's stdout and stderr are pipes its worker reads; with the worker gone, the next
log line raised SystemExit(1) from rich's broken-pipe handler, Prefect said Crashed and the store
said `failed` (what the scale test found: 99 completed, 1 CRASHED/`failed`, never re-run).
- golive's worker entry survives the broken pipe: the run completes by itself, each effect once.
- Prefect's own entry (`python -m prefect.engine`) still dies of it: the store now says `crashed`
  with Prefect, and a store run left `failed` (as golive recorded such runs before) is aligned to
  `crashed`; `golive runs reconcile --rerun` starts each again once, across two passes.

A real Prefect server on PostgreSQL, a process work pool, `prefect worker start` subprocesses, the
store on SQLite shared by the flow-run processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from worker_support import (
    APPROVAL_DECISIONS,
    APPROVAL_STEPS,
    WORKER_ENTRY,
    WorkPool,
    approval_book,
    final,
    golive_env,
    store_effects,
    wait_for,
    wait_step_completed,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
GOLIVE = Path(sys.executable).parent / "golive"
BOOK = approval_book("outlive-worker")
DECISIONS = APPROVAL_DECISIONS
STEPS = APPROVAL_STEPS
# Worker 1's runs hold before the approval (tasks/foundation/crash.py) for this long: the worker is
# killed during the hold, and the run's next log line meets the broken pipe.
HOLD = "approval:before=15"


def _pool(api_url: str, tmp_path: Path, command: str | None) -> WorkPool:
    from golive.tasks.store import Store

    env = {**golive_env(tmp_path, "crashed-test-key"), "GOLIVE_LEASE_TTL_S": "5"}
    Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"]).dispose()
    return WorkPool(api_url=api_url, env=env, workdir=tmp_path, command=command).create()


@pytest.fixture
def prefect_api(api_url: str) -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        yield api_url


def _reconcile(pool: WorkPool) -> dict[str, Any]:
    env = {**pool.worker_env(), "PREFECT_HOME": str(pool.workdir / "cli-home")}
    done = subprocess.run([str(GOLIVE), "runs", "reconcile", "--rerun", "--stale", "3", "--worker-timeout", "20",
                           "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def _start_and_kill_worker(pool: WorkPool, book: Path, keys: list[str]) -> list[Any]:
    pool.start_worker("worker-1", limit=len(keys), extra_env={"GOLIVE_PAUSE_AT": HOLD})
    ids = pool.trigger({"runbook": str(book), "run_key": k, "decisions": DECISIONS} for k in keys)
    wait_step_completed(pool.env, "before", len(keys), 240)
    pool.kill_worker("worker-1")  # the worker only: its flow-run processes carry on
    return ids


def _effects_once(pool: WorkPool, keys: list[str]) -> dict[str, tuple[str, str]]:
    runs, events, approvals = store_effects(pool.env)
    for key in keys:
        got = events[key]
        assert {s: got[f"step.end:{s}"] for s in STEPS} == {s: 1 for s in STEPS}, (key, got)
        assert got["notify"] == 2 and got["approval.decided"] == 1 and approvals[key] == 1, (key, got)
    return runs


def test_a_run_outlives_its_killed_worker(prefect_api: str, tmp_path: Path) -> None:
    pool = _pool(prefect_api, tmp_path, WORKER_ENTRY)
    try:
        book = tmp_path / "outlive.yaml"
        book.write_text(BOOK)
        ids = _start_and_kill_worker(pool, book, ["outlive-1"])
        runs_after = wait_for(ids, final, 180, "finished")
    finally:
        pool.stop()
    assert runs_after[0].state.type.value == "COMPLETED", runs_after[0].state
    runs = _effects_once(pool, ["outlive-1"])
    assert runs[str(ids[0])] == ("outlive-1", "completed")


def test_torn_down_runs_are_crashed_and_rerun_once(prefect_api: str, tmp_path: Path) -> None:
    from golive.tasks.store import Store

    pool = _pool(prefect_api, tmp_path, None)  # Prefect's entry: no guard against the broken pipe
    keys = ["torn-1", "torn-2"]
    try:
        book = tmp_path / "outlive.yaml"
        book.write_text(BOOK)
        ids = _start_and_kill_worker(pool, book, keys)
        crashed = wait_for(ids, final, 180, "finished")
        assert {r.state.type.value for r in crashed} == {"CRASHED"}, [r.state for r in crashed]
        runs, _events, _approvals = store_effects(pool.env)
        assert {runs[str(i)] for i in ids} == {(k, "crashed") for k in keys}  # not `failed`
        # The 100-run scale test's case: the store says `failed` (as golive wrote it before) while
        # Prefect says Crashed.
        store = Store.open(pool.env["GOLIVE_DATABASE_URL"], audit_key=pool.env["GOLIVE_AUDIT_KEY"])
        try:
            store.finish_run(str(ids[1]), "failed")
        finally:
            store.dispose()

        pool.start_worker("worker-2", limit=2)
        first, second = _reconcile(pool), _reconcile(pool)
        assert first["store_updated"] == {str(ids[1]): "crashed"}, first
        assert set(first["rerun"]) == {str(i) for i in ids}, first
        assert second["rerun"] == {} and second["store_updated"] == {}, second  # each re-run once
        reruns = list(first["rerun"].values())
        done = wait_for(reruns, final, 240, "finished")
        assert {r.state.type.value for r in done} == {"COMPLETED"}, [r.state for r in done]
        third = _reconcile(pool)
        assert (third["rerun"], third["store_updated"], third["crashed"]) == ({}, {}, []), third
    finally:
        pool.stop()
    runs = _effects_once(pool, keys)
    by_key = Counter((key, state) for key, state in runs.values())
    assert by_key == Counter({(k, s): 1 for k in keys for s in ("crashed", "completed")}), by_key
    store = Store.open(pool.env["GOLIVE_DATABASE_URL"], audit_key=pool.env["GOLIVE_AUDIT_KEY"])
    try:
        rerun_entries = [e for i in ids for e in store.audit.entries(run_id=str(i)) if e.event == "run.rerun"]
        aligned = [e for e in store.audit.entries(run_id=str(ids[1])) if e.event == "run.crashed"]
    finally:
        store.dispose()
    assert len(rerun_entries) == 2 and len(aligned) == 1, (rerun_entries, aligned)


def test_crashed_in_prefect_while_its_process_lives_is_left_alone(prefect_api: str, tmp_path: Path) -> None:
    """Prefect says Crashed (its zombie automation after late heartbeats, say) while the run's process
    still renews its lease: reconcile neither aligns nor re-runs it; once the process has finished,
    nothing is re-run either, and every effect happened once."""
    from prefect import get_client
    from prefect.states import Crashed

    pool = _pool(prefect_api, tmp_path, WORKER_ENTRY)
    try:
        book = tmp_path / "alive.yaml"
        book.write_text(BOOK)
        pool.start_worker("worker-1", limit=1, extra_env={"GOLIVE_PAUSE_AT": HOLD})
        ids = pool.trigger([{"runbook": str(book), "run_key": "alive-1", "decisions": DECISIONS}])
        wait_step_completed(pool.env, "before", 1, 240)
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(ids[0], Crashed(message="no heartbeat (test)"), force=True)
        during = _reconcile(pool)
        assert during["crashed_but_alive"] == [str(ids[0])], during
        assert (during["rerun"], during["store_updated"]) == ({}, {}), during
        _wait_store_final(pool, str(ids[0]), 180)
        after = _reconcile(pool)
        assert after["rerun"] == {} and after["crashed_but_alive"] == [], after
    finally:
        pool.stop()
    runs = _effects_once(pool, ["alive-1"])
    assert runs == {str(ids[0]): ("alive-1", "completed")}, runs


def _wait_store_final(pool: WorkPool, run_id: str, timeout: float) -> None:
    """Until the run is final in the store and its lease released (its process is done with it)."""
    import time

    from golive.tasks.store import Store, leases

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        store = Store.open(pool.env["GOLIVE_DATABASE_URL"], audit_key=pool.env["GOLIVE_AUDIT_KEY"])
        try:
            record = store.get_run(run_id)
            if record is not None and record.state not in ("running", "suspended") \
                    and leases.current(store, record.run_key) is None:
                return
        finally:
            store.dispose()
        time.sleep(2)
    raise AssertionError(f"run {run_id} still open in the store, or its lease held, after {timeout} s")
