"""Pre-flight refusals, one golden message each: nothing runs, exit 2, no traceback, no store."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.flows.engine.validate import validate_file
from golive.tasks.foundation.paths import RUNBOOKS

_BOOK = validate_file(RUNBOOKS / "pre-implementation.yaml")
STEPS = ", ".join(sorted(s.id for s in (*_BOOK.steps, *_BOOK.on_failure)))  # as the refusal lists them


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "pre-implementation", *args])
    assert "Traceback" not in result.output
    assert not (tmp_path / ".golive" / "golive.db").exists(), "a refused run touched the store"
    return result.exit_code, result.output.strip()


def _inputs(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inputs.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


GOLDEN_FLAGS = [
    (["--approve", "no-such-step=A:CFO"],
     f"error: --approve no-such-step: unknown step 'no-such-step' in runbook pre-implementation (steps: {STEPS})"),
    (["--approve", "vendor-onboarding=Val:VP of Ops"],
     "error: --approve vendor-onboarding: step vendor-onboarding is a checklist step, which takes no approval"),
    (["--approve", "approve-budget=Dana:CDO"],
     "error: --approve approve-budget: role 'CDO' may not decide approve-budget; approvers: CFO"),
    (["--confirm", "approve-budget"],
     "error: --confirm approve-budget: step approve-budget is an approval step, which takes no checklist"),
]


@pytest.mark.parametrize(("args", "golden"), GOLDEN_FLAGS, ids=["unknown-step", "not-approval", "role", "not-checklist"])
def test_flag_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], golden: str) -> None:
    code, output = _run(tmp_path, monkeypatch, *args)
    assert (code, output) == (2, golden)


GOLDEN_FILES = [
    ("approvals: \"yes please\"\n", "{path}:1:12: error: approvals: expected a mapping, got a string"),
    ("approvals:\n  approve-budget: {name: Dana, role: CDO}\n",
     "{path}:2:38: error: role 'CDO' may not decide approve-budget; approvers: CFO"),
    ("approvals:\n  approve-budget: {name: Dana}\n", "{path}:2:3: error: approvals.approve-budget: missing required key 'role'"),
    ("confirmations:\n  vendor-onboarding: [msa-baa, no-such-item]\n",
     "{path}:2:3: error: checklist vendor-onboarding has no item 'no-such-item' (items: account-hierarchy, "
     "csm-assigned, msa-baa, sandbox-access, technical-kickoff)"),
    ("confirmations:\n  brief: all\n", "{path}:2:3: error: step brief is a report.render step, which takes no checklist"),
]


@pytest.mark.parametrize(("text", "golden"), GOLDEN_FILES, ids=["shape", "role", "missing-role", "item", "not-checklist"])
def test_inputs_file_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, golden: str) -> None:
    path = _inputs(tmp_path, text)
    code, output = _run(tmp_path, monkeypatch, "--inputs", str(path))
    assert (code, output) == (2, golden.format(path=path))
