"""Four first runs at once on a fresh golive home: all complete, none prints a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.mark.slow
def test_concurrent_first_runs_print_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_AUDIT_KEY": "first-runs-key"}
    env.pop("PREFECT_API_URL", None)
    book = FIXTURES / "runbooks" / "every-store-kind.yaml"
    procs = [subprocess.Popen([sys.executable, "-m", "golive.flows.cli.main", "run", str(book), "--org",
                               str(FIXTURES / "organization-min.yaml"), "--approve", "sign-off=Casey:CFO",
                               "--confirm", "confirm", "--run-key", f"first-{i}"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(4)]
    outputs = [p.communicate(timeout=400)[0] for p in procs]
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out
        assert "Traceback" not in out and "Error" not in out, out
