"""Human waits hold no process: deployment runs waiting for an approval are suspended, the worker
holds no process for them, and Resume (the UI's typed form, through the same API call) brings
each back under its run key to completion, with every effect exactly once.

A real Prefect server on PostgreSQL, a process work pool with a deployment of the
entry flow, and a `prefect worker start` subprocess; the store is SQLite shared by the flow-run
processes. The default suite suspends 5 runs; the slow test suspends 20 (the issue's figure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from worker_support import (
    WorkPool,
    descendants,
    final,
    store_effects,
    suspended,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# One effect before the wait (a notify), the approval, one effect after; the approvers are also told
# once per pause (flows/engine/decider_message.py), so each run key has 3 notify entries.
BOOK = """apiVersion: golive/v1
kind: Runbook
metadata: {name: suspend-approval}
steps:
  - id: before
    uses: notify
    with: {to: [CFO], subject: Before the sign-off, message: Prepared.}
  - id: sign-off
    uses: approval
    needs: [before]
    with: {approvers: [CDO], question: Ready for go-live?}
  - id: after
    uses: notify
    needs: [sign-off]
    with: {to: [CFO], subject: Signed off, message: "{{ steps['sign-off'].outputs.approver }} decided."}
"""
NOTIFY_PER_KEY = 3
STEPS = {"before", "sign-off", "after"}


@pytest.fixture
def pool(api_url: str, tmp_path: Path) -> Iterator[WorkPool]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = {"GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_ORG": str(FIXTURES / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": "suspend-test-key",
           "GOLIVE_DATABASE_URL": f"sqlite:///{tmp_path / 'golive.db'}", "GOLIVE_PDF": "off"}
    from golive.tasks.store import Store

    Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"]).dispose()  # migrated once
    with temporary_settings({PREFECT_API_URL: api_url}):
        work = WorkPool(api_url=api_url, env=env, workdir=tmp_path).create()
        try:
            yield work
        finally:
            work.stop()


def _store_facts(env: dict[str, str]) -> tuple[dict[str, str], dict[str, Counter[str]], Counter[str]]:
    """(run state per run key, audit events per run key, approvals rows per run key); audit verifies."""
    runs, events, approvals = store_effects(env)
    return {k: state for k, state in runs.values()}, events, approvals


def _suspend_then_resume(pool: WorkPool, tmp_path: Path, n: int, timeout: float, limit: int) -> None:
    from prefect.flow_runs import resume_flow_run

    book = tmp_path / "suspend-approval.yaml"
    book.write_text(BOOK)
    keys = [f"suspend-{i}" for i in range(n)]
    worker = pool.start_worker("worker-1", limit=limit)  # fewer slots than runs: a suspended run frees its slot
    ids = pool.trigger({"runbook": str(book), "run_key": key} for key in keys)

    wait_for(ids, suspended, timeout, "suspended")
    held = wait_held(worker.pid, 0, 30)
    assert held == [], f"the worker still holds {len(held)} processes for {n} suspended runs: {_cmdlines(held)}"
    states, events, approvals = _store_facts(pool.env)
    assert states == {k: "suspended" for k in keys}, states
    assert sum(approvals.values()) == 0, approvals

    for i, run_id in enumerate(ids):
        resume_flow_run(run_id, run_input={"decision": "approve", "name": f"Dana {i}", "role": "CDO",
                                           "comment": "ok"})
    runs = wait_for(ids, final, timeout, "finished")
    assert [r.state.type.value for r in runs] == ["COMPLETED"] * n, [(r.state.name, r.state.message) for r in runs]

    states, events, approvals = _store_facts(pool.env)
    assert states == {k: "completed" for k in keys}, states
    assert approvals == {k: 1 for k in keys}, approvals
    for key in keys:
        got = events[key]
        assert got["approval.decided"] == 1 and got["notify"] == NOTIFY_PER_KEY, (key, got)
        assert {s: got[f"step.end:{s}"] for s in STEPS} == {s: 1 for s in STEPS}, (key, got)
        assert got["run.suspended"] == 1, (key, got)


def _cmdlines(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200])
        except OSError:
            pass
    return out


def wait_held(pid: int, want: int, timeout: float) -> list[int]:
    """The worker's descendant processes once they number `want` (a suspended run's process takes
    a moment to exit after its state changes), or what it holds at the deadline."""
    import time

    end = time.monotonic() + timeout
    while True:
        held = descendants(pid)
        if len(held) == want or time.monotonic() > end:
            return held
        time.sleep(0.5)


def test_five_runs_suspended_for_approval_hold_no_process(pool: WorkPool, tmp_path: Path) -> None:
    _suspend_then_resume(pool, tmp_path, 5, timeout=400, limit=2)


@pytest.mark.slow
def test_twenty_runs_suspended_for_approval_hold_no_process(pool: WorkPool, tmp_path: Path) -> None:
    _suspend_then_resume(pool, tmp_path, 20, timeout=900, limit=5)
