"""`golive pms check` the way a rollout lead meets it: progress with estimates under the location's
pacing, one line and a quick end when the office cannot be reached, Prefect Secret references
resolved under GOLIVE_HOME without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from net_support import refused_port
from pms_support import CLIENT_INTERVAL_S
from typer.testing import CliRunner

from golive.flows.cli.pms import app as pms_app
from golive.tasks.pms.simulator.process import SimProcess
from golive.tasks.store import Store

pytestmark = pytest.mark.integration
LOCATION = "eastside-specialty"  # Open Dental 25.3.20 in the example organization


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(pms_app, name="pms")
    root.command("noop")(lambda: None)
    return root


def _sim_args(sim: SimProcess, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("SIM_OD_CUSTOMER_KEY", sim.customer_key)
    monkeypatch.setenv("SIM_OD_DEVELOPER_KEY", sim.developer_key)
    return ["--base-url", sim.url, "--secret", "env:SIM_OD_CUSTOMER_KEY", "--developer-secret",
            "env:SIM_OD_DEVELOPER_KEY", "--allow-insecure-local"]


def test_each_check_is_shown_with_its_estimate(clean_sim: SimProcess, store: Store,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_DATABASE_URL", str(store.url.render_as_string(hide_password=False)))
    clean_sim.configure(version="24.4.8.0")
    r = CliRunner().invoke(_cli(), ["pms", "check", "--location", LOCATION, "--test-patient", "1",
                                    *_sim_args(clean_sim, monkeypatch), "--request-interval", str(CLIENT_INTERVAL_S)])
    lines = r.output.splitlines()
    assert r.exit_code == 1  # write-back is not verified on 24.4.8: never a pass
    assert lines[0] == f"{LOCATION}: opendental 24.4.8.0 via rest-api; pacing 1 request / {CLIENT_INTERVAL_S:g} s"
    assert lines[1].startswith("estimated: about ")
    starts = [ln for ln in lines if ln.startswith("[")]
    assert [s.split()[1] for s in starts] == ["version", "auth", "patient_read", "writeback", "code_mapping",
                                             "nondestructive", "imaging_passthrough", "attachment"]
    assert "[3/8] patient_read (about 5 requests" in r.output
    assert "  not_verified   not verified on version 24.4.8.0 (needs 24.4.26)" in r.output


def test_the_documented_pacing_is_the_default(clean_sim: SimProcess, store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_DATABASE_URL", str(store.url.render_as_string(hide_password=False)))
    r = CliRunner().invoke(_cli(), ["pms", "check", "--location", LOCATION, "--check", "version",
                                    *_sim_args(clean_sim, monkeypatch)])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].endswith("pacing 1 request / 5 s")  # one request: nothing waited


def test_an_unreachable_office_is_one_line_and_a_quick_end(tmp_path: Path) -> None:
    """The real command, as a lead runs it: a refused connection."""
    env = os.environ | {"GOLIVE_HOME": str(tmp_path), "OD_X": "x"}
    with refused_port() as port:
        cmd = [sys.executable, "-m", "golive.flows.cli.main", "pms", "check", "--location", LOCATION,
               "--base-url", f"https://127.0.0.1:{port}", "--secret", "env:OD_X", "--developer-secret", "env:OD_X"]
        # The promise ("within 10 s") rests on one attempt bounded by the 5 s connect timeout (and the
        # 5 s bound on name resolution); this deadline only stops a hang, since a shared machine's
        # start-up time is not ours to assert.
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [f"{LOCATION}: cannot reach the Open Dental API at 127.0.0.1: "
                                                "the connection was refused"]
    assert "Traceback" not in done.stderr + done.stdout


def test_a_host_that_does_not_resolve_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path))
    monkeypatch.setenv("OD_X", "x")
    r = CliRunner().invoke(_cli(), ["pms", "check", "--location", LOCATION, "--base-url",
                                    "https://od-nowhere.invalid", "--secret", "env:OD_X", "--developer-secret", "env:OD_X"])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [f"{LOCATION}: cannot reach the Open Dental API at od-nowhere.invalid: "
                                             "the host name does not resolve"]


def test_prefect_secret_resolves_under_golive_home_without_a_traceback(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks import system

    seen: dict[str, Any] = {}

    def load(name: str) -> Any:
        seen[name] = os.environ.get("PREFECT_HOME")
        raise ValueError(f"Unable to find block document named {name} for block type secret")

    monkeypatch.setattr(system.Secret, "load", staticmethod(load))
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    r = CliRunner().invoke(_cli(), ["pms", "check", "--location", LOCATION, "--secret", "prefect-secret:od-key",
                                    "--developer-secret", "prefect-secret:od-dev"])
    assert r.exit_code == 2
    assert seen == {"od-dev": str(tmp_path / "home" / "prefect")}
    assert r.output.strip().splitlines() == ["there is no Prefect Secret block named 'od-dev' (create it in the "
                                             "Prefect UI, or with prefect.blocks.system.Secret(value=...).save("
                                             "'od-dev'))"]
