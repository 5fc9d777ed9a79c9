"""The rollout lead's set-up from README "The Prefect UI", as processes: `golive server start`,
`prefect work-pool create`, `prefect deploy --all`, `prefect worker start`.

The test's prefect.yaml deploys one small runbook (tests/e2e/ui/ui-check.yaml) through the same
typed flows as runbooks/ (`GOLIVE_EXTRA_RUNBOOKS`), so a run costs one approval chain, not a rollout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
UI_BOOKS = Path(__file__).resolve().parent / "ui"
FIXTURES = ROOT / "tests" / "fixtures"
UI_ORG = FIXTURES / "organization-ui.yaml"  # two locations with readiness inputs (the brief's chart)

PREFECT_YAML = """\
name: golive-ui-check
prefect-version: 3.9.1
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $GOLIVE_CHECKOUT }}"
deployments:
  - name: ui-check
    entrypoint: golive.flows.deployed:ui_check
    description: Approvals and a checklist answered in the Prefect UI.
    work_pool:
      name: golive-local
      work_queue_name: default
      job_variables: {command: "%(command)s"}
"""


@dataclass(frozen=True)
class Stack:
    ui_url: str
    api_url: str
    env: dict[str, str]
    home: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def worker_command() -> str:
    """The process pool's command from the repository's prefect.yaml (what `prefect deploy --all` sets)."""
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text())
    return str(config["definitions"]["work_pool"]["job_variables"]["command"])


@contextmanager
def ui_stack(home: Path) -> Iterator[Stack]:
    port = free_port()
    project = home / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / "prefect.yaml").write_text(PREFECT_YAML % {"command": worker_command()})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "GOLIVE_HOME": str(home / ".golive"), "GOLIVE_OUT": str(home / "out"),
        "GOLIVE_ORG": str(UI_ORG), "GOLIVE_AUDIT_KEY": "ui-test-audit-key",
        "GOLIVE_EXTRA_RUNBOOKS": str(UI_BOOKS), "GOLIVE_CHECKOUT": str(ROOT), "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GOLIVE_REPORTS_PORT": str(free_port()),
    })
    env.pop("GOLIVE_DATABASE_URL", None)
    golive = [sys.executable, "-m", "golive.flows.cli.main"]
    worker: subprocess.Popen[bytes] | None = None
    try:
        printed = _run([*golive, "server", "start", "--port", str(port)], env, project)
        ui_url = f"http://127.0.0.1:{port}"
        assert ui_url in printed, printed
        env["PREFECT_API_URL"] = f"{ui_url}/api"
        env["PREFECT_HOME"] = str(home / ".golive" / "prefect")
        prefect = [sys.executable, "-m", "prefect"]
        _run([*prefect, "work-pool", "create", "golive-local", "--type", "process"], env, project)
        _run([*prefect, "--no-prompt", "deploy", "--all"], env, project, timeout=300)
        log = open(home / "worker.log", "wb")  # noqa: SIM115  # closed with the worker
        worker = subprocess.Popen([*prefect, "worker", "start", "--pool", "golive-local", "--prefetch-seconds", "5"],
                                  env=env, cwd=project, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        yield Stack(ui_url=ui_url, api_url=env["PREFECT_API_URL"], env=env, home=home)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        subprocess.run([*golive, "server", "stop"], env=env, cwd=project, capture_output=True, timeout=60)


def wait_for(check: object, timeout: float = 120, every: float = 0.5) -> object:
    end = time.monotonic() + timeout
    while True:
        value = check()  # type: ignore[operator]
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {check}")
        time.sleep(every)


def ui_settings(stack: Stack) -> dict[str, object]:
    return dict(httpx.get(f"{stack.ui_url}/ui-settings", timeout=5).json())
