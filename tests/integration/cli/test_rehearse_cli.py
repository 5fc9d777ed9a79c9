"""`golive rehearse` refuses bad input with exit 2 and one line naming what is wrong, before it
starts a server or a simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from golive.flows.cli.main import app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("args", "message"), [
    (["--seed", "1", "--scenario", "meteor"], "--scenario 'meteor': one of baseline, outage, pms-faults"),
    (["--seed", "1", "--generate", "10", "--org", "x.yaml"], "--org and --generate exclude each other"),
    (["--seed", "1", "--start", "next monday"], "--start 'next monday' is not a date (YYYY-MM-DD)"),
])
def test_bad_input_exits_2(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_OUT", str(tmp_path))
    result = CliRunner().invoke(app, ["rehearse", *args])
    assert result.exit_code == 2, result.output
    assert f"error: {message}" in result.output
    assert "Traceback" not in result.output


def test_a_broken_organization_file_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_OUT", str(tmp_path))
    org = tmp_path / "org.yaml"
    org.write_text("apiVersion: golive/v1\nkind: Organization\nname: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rehearse", "--seed", "1", "--org", str(org)])
    assert result.exit_code == 2, result.output
    assert "org.yaml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "rehearsal" / "1" / "home").exists()  # nothing started
