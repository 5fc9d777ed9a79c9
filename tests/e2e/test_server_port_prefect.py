"""`golive server start` where another Prefect server holds the port: refused, naming it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from typer.testing import CliRunner

from golive.flows.cli.main import app


def test_port_held_by_another_prefect_server(prefect_server: None, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    port = urlparse(str(PREFECT_API_URL.value())).port
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    result = CliRunner().invoke(app, ["server", "start", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"error: port {port} on 127.0.0.1 is held by another Prefect server, not this golive home's" in result.output
