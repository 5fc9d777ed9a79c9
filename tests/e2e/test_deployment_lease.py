"""One live run per run key, for deployment runs: a real Prefect server (the session's test server),
the entry flow served as a deployment by a real runner process (`Flow.serve`, each flow run in its
own subprocess, as a worker runs them), and two deployment runs created at once with one run key.
Exactly one runs; the other fails before its first step with "run key K is running (...)" as its
state message, the way the UI shows it; no effect is made twice.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_support import DECISIONS, FIXTURES, RUNBOOK, check_exactly_once

DEPLOYMENT = "golive-runbook/lease-race"
BUSY = re.compile(r"^run key (\S+) is running \(pid \d+ on host \S+ since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$")
SERVE = (
    "from prefect.deployments.runner import EntrypointType\n"
    "from golive.flows.engine.entry import golive_runbook\n"
    "golive_runbook.serve(name='lease-race', entrypoint_type=EntrypointType.MODULE_PATH,"
    " print_starting_message=False)\n"
)
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture
def api_url(prefect_server: None) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def _wait_for_deployment(timeout_s: float) -> None:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            try:
                client.read_deployment_by_name(DEPLOYMENT)
                return
            except Exception:  # noqa: BLE001  (not registered yet)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def _final_states(ids: list[object], timeout_s: float) -> list[tuple[str, str]]:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]  # type: ignore[arg-type]
            if all(r.state is not None and r.state.type.value in TERMINAL for r in runs):
                return [(r.state.type.value, r.state.message or "") for r in runs]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, [r.state for r in runs]
            time.sleep(0.5)


@pytest.mark.slow
def test_two_deployment_runs_of_one_key_one_refused(api_url: str, tmp_path: Path) -> None:
    from prefect.deployments import run_deployment

    env = {"GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_ORG": str(FIXTURES / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": "deploy-lease-key",
           "GOLIVE_DATABASE_URL": f"sqlite:///{tmp_path / 'golive.db'}"}
    from golive.tasks.store import Store

    Store.open(env["GOLIVE_DATABASE_URL"]).dispose()  # migrated once, not by both runs
    # The winner holds the key at its first step long enough for the other run to try it.
    served_env = {**os.environ, **env, "PREFECT_API_URL": api_url, "GOLIVE_PAUSE_AT": "checklist:before=8",
                  "GOLIVE_CRASH_AT": "", "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = open(tmp_path / "runner.log", "wb")  # noqa: SIM115  # closed below
    runner = subprocess.Popen([sys.executable, "-c", SERVE], env=served_env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=tmp_path)
    try:
        _wait_for_deployment(120)
        params = {"runbook": str(RUNBOOK), "parameters": {}, "run_key": "deploy-race", "decisions": DECISIONS}
        ids = [run_deployment(DEPLOYMENT, parameters=params, timeout=0).id for _ in range(2)]
        states = _final_states(ids, 240)
    finally:
        runner.terminate()
        try:
            runner.wait(30)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait(10)
        log.close()
    assert sorted(t for t, _ in states) == ["COMPLETED", "FAILED"], (states, (tmp_path / "runner.log").read_text()[-3000:])
    refused = next(m for t, m in states if t == "FAILED")
    match = BUSY.match(refused)
    assert match and match.group(1) == "deploy-race", refused
    check_exactly_once(env, "deploy-race", complete=True)  # each effect once; audit verifies
