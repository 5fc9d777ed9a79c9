"""Prefect-side zombie detection (flows/engine/zombies.py) against a real Prefect server with its
services (event triggers, actions): `golive runs install-automations` creates the automation once;
a flow run whose host is SIGKILLed (worker and flow-run process) is marked Crashed by the server,
with no `golive runs reconcile`; a suspended run is not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from worker_support import (
    APPROVAL_DECISIONS,
    WorkPool,
    approval_book,
    golive_env,
    kill_host,
    suspended,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
GOLIVE = Path(sys.executable).parent / "golive"
BOOK = approval_book("zombie-me")
DECISIONS = APPROVAL_DECISIONS
WITHIN = 45  # seconds; the workers heart-beat every 30 (Prefect's minimum)


def _install(env: dict[str, str], *within: str) -> str:
    done = subprocess.run([str(GOLIVE), "runs", "install-automations", *within], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_install_is_idempotent_and_a_dead_host_run_is_crashed_by_the_server(api_url: str, tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from golive.flows.engine import zombies
    from golive.tasks.store import Store

    env = {**golive_env(tmp_path, "zombie-test-key"), "GOLIVE_LEASE_TTL_S": "5"}
    Store.open(env["GOLIVE_DATABASE_URL"], audit_key=env["GOLIVE_AUDIT_KEY"]).dispose()
    with temporary_settings({PREFECT_API_URL: api_url}):
        pool = WorkPool(api_url=api_url, env=env, workdir=tmp_path).create()
        cli_env = {**pool.worker_env(), "PREFECT_HOME": str(tmp_path / "cli-home")}
        assert " created " in _install(cli_env)
        assert " unchanged " in _install(cli_env)
        assert " updated " in _install(cli_env, "--within", str(WITHIN))
        with get_client(sync_client=True) as client:
            [installed] = client.read_automations_by_name(zombies.NAME)
        assert installed.enabled and installed.trigger.within.total_seconds() == WITHIN
        assert installed.actions[0].state.value == "CRASHED"

        book = tmp_path / "zombie.yaml"
        book.write_text(BOOK)
        try:
            # A run suspended for its approval stops heart-beating too: it must stay Suspended.
            pool.start_worker("worker-s", limit=1, extra_env={"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"})
            [waiting] = pool.trigger([{"runbook": str(book), "run_key": "suspended-1"}])
            wait_for([waiting], suspended, 180, "suspended")
            pool.kill_worker("worker-s", signal.SIGTERM)
            worker = pool.start_worker("worker-1", limit=1, extra_env={
                "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30", "GOLIVE_PAUSE_AT": "approval:before=600"})
            [run_id] = pool.trigger([{"runbook": str(book), "run_key": "zombie-1", "decisions": DECISIONS}])
            wait_for([run_id], lambda r: r.state.type.value == "RUNNING", 180, "running")
            time.sleep(3)  # its first heartbeat goes out as it starts running
            kill_host(worker)  # worker and flow-run process: nothing reports the run's end
            killed = time.monotonic()
            [after] = wait_for([run_id], lambda r: r.state.type.value != "RUNNING", WITHIN + 30 + 60, "crashed")
            took = time.monotonic() - killed
            with get_client(sync_client=True) as client:
                still = client.read_flow_run(waiting)
        finally:
            pool.stop()
    assert after.state.type.value == "CRASHED", after.state
    assert "golive zombie automation" in (after.state.message or ""), after.state.message
    assert suspended(still), still.state
    print(f"crashed by the server {took:.0f} s after the kill (within {WITHIN} s, heartbeat 30 s)")
