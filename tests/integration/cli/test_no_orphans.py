"""A killed `golive run` leaves no temporary Prefect server (uvicorn) behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_support import children_of

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
def test_killed_run_takes_its_temporary_server_along(tmp_path: Path) -> None:
    env = {**os.environ, "GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_AUDIT_KEY": "orphan-test-key", "GOLIVE_PAUSE_AT": "notify:before=120"}
    env.pop("PREFECT_API_URL", None)
    book = FIXTURES / "runbooks" / "every-store-kind.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "golive.flows.cli.main", "run", str(book), "--org",
                             str(FIXTURES / "organization-min.yaml"), "--approve", "sign-off=Casey:CFO",
                             "--confirm", "confirm", "--run-key", "orphan"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not server:
            server = [p for p in _descendants(proc.pid)
                      if b"uvicorn" in Path(f"/proc/{p}/cmdline").read_bytes()]
            time.sleep(0.5)
        assert server, "no temporary server started"
        time.sleep(15)  # let the run reach its paused step (server up, steps in flight)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in server):
            time.sleep(0.2)
        assert not [p for p in server if _alive(p)], "the temporary server outlived its killed run"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in server:  # never leave an orphan on a shared machine, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
