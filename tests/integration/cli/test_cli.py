"""The `golive` command as a user runs it: exit codes, exact output forms, JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
pytestmark = pytest.mark.integration


def golive(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GOLIVE_HOME": str(cwd / ".golive"), "GOLIVE_OUT": str(cwd / "out"),
                "GOLIVE_AUDIT_KEY": "cli-test-key", **(env or {})}
    full_env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "golive.flows.cli.main", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout)


def test_validate_counts_valid_runbooks(tmp_path: Path) -> None:
    result = golive("validate", str(ROOT / "runbooks"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(list((ROOT / "runbooks").glob("*.yaml")))
    assert result.stdout.strip() == f"{count} runbooks valid"


def test_validate_reports_every_issue_with_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: golive/v1\nkind: Runbook\nmetadata: {name: bad}\nsteps:\n"
                   "  - id: a\n    uses: expekt\n  - id: b\n    uses: expect\n    needs: [c]\n    with: {that: 'true'}\n")
    result = golive("validate", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stdout.splitlines() if not line.startswith("    hint:")]
    assert all(line.startswith(f"{bad}:") and ": error: " in line for line in lines), result.stdout
    assert any(":6:11: error:" in line and "expekt" in line for line in lines), result.stdout
    assert any(":9:" in line and "'c'" in line for line in lines), result.stdout


def test_plan_formats(tmp_path: Path) -> None:
    text = golive("plan", "pre-implementation", "--start", "2026-12-07", cwd=tmp_path)
    assert text.returncode == 0 and "approve-budget [approval] (CFO · 2026-12-16)" in text.stdout
    mermaid = golive("plan", "pre-implementation", "--format", "mermaid", cwd=tmp_path)
    assert mermaid.stdout.startswith("flowchart TD") and "approve_timeline --> approve_board" in mermaid.stdout
    as_json = json.loads(golive("plan", "pre-implementation", "--format", "json", cwd=tmp_path).stdout)
    assert as_json["runbook"] == "pre-implementation" and len(as_json["steps"]) == 18 + 1  # 18 steps, 1 on failure


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "nope=1"], "nope"),
    (["-p", "board_approval_required=maybe"], "board_approval_required"),
    (["--approve", "approve-budget"], "STEP=NAME:ROLE"),
    (["--approve", "no-such-step=A:CFO"], "unknown step"),
    (["--org", "missing.yaml"], "missing.yaml"),
])
def test_run_refuses_bad_input_before_anything_runs(tmp_path: Path, args: list[str], message: str) -> None:
    result = golive("run", "pre-implementation", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / ".golive" / "golive.db").exists()


def test_run_json_resume_and_audit(tmp_path: Path) -> None:
    book = tmp_path / "small.yaml"
    book.write_text("apiVersion: golive/v1\nkind: Runbook\nmetadata: {name: small}\n"
                    "parameters:\n  ok: {type: boolean, default: false}\n"
                    "steps:\n  - {id: hello, uses: notify, with: {to: [CFO], message: hi}}\n"
                    "  - {id: sign, uses: approval, needs: [hello], with: {approvers: [CFO], question: ok?}}\n"
                    "  - {id: check, uses: expect, needs: [sign], with: {that: params.ok, message: not ok}}\n")
    org = ["--org", str(FIXTURES / "organization-min.yaml")]
    first = golive("run", str(book), *org, "--approve", "sign=Casey:CFO", "--run-key", "k1", "--json", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    result = json.loads(first.stdout)
    assert set(result) == {"runbook", "run_id", "state", "steps", "reports"}
    assert result["state"] == "failed"
    assert [(s["key"], s["state"]) for s in result["steps"]] == [("hello", "completed"), ("sign", "completed"),
                                                                  ("check", "failed")]
    assert result["steps"][0]["outputs"]["recipients"] == ["Casey CFO"]
    second = golive("run", str(book), *org, "-p", "ok=true", "--run-key", "k1", "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert [s["state"] for s in json.loads(second.stdout)["steps"]] == ["cached", "cached", "completed"]
    assert "Traceback" not in first.stderr + second.stderr
    verify = golive("audit", "verify", cwd=tmp_path)
    assert verify.returncode == 0 and verify.stdout.strip().endswith("audit entries verified")


def test_plan_needs_no_values_for_required_parameters_but_checks_given_ones(tmp_path: Path) -> None:
    shown = golive("plan", "rollback", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.startswith("rollback:"), shown.stderr
    wrong = golive("plan", "rollback", "-p", "locations=3", cwd=tmp_path)
    assert wrong.returncode == 2 and "locations" in wrong.stderr


def test_org_check_reports_positions_and_never_echoes_a_literal_key(tmp_path: Path) -> None:
    ok = golive("org", "check", cwd=tmp_path)
    assert ok.returncode == 0 and "25 locations" in ok.stdout
    bad = tmp_path / "org.yaml"
    bad.write_text("apiVersion: golive/v1\nkind: Organization\nname: X\ntimezone: UTC\nregions: [{id: r, name: R}]\n"
                   "locations:\n  - {id: a, name: A, region: r, pms: {product: opendental,\n"
                   "     connection: {base_url: 'https://od.example/api/v1', secret: sk-live-12345}}}\n")
    result = golive("org", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{bad}:8:" in result.stdout and "is not a secret reference" in result.stdout
    assert "sk-live-12345" not in result.stdout + result.stderr
