"""`golive server start` on a port something else holds: exit 2 naming the holder, nothing started."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golive.flows.cli import local_server
from golive.flows.cli.main import app


def test_port_held_by_another_process_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert local_server.port_holder(port) is not None
        result = CliRunner().invoke(app, ["server", "start", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: port {port} on 127.0.0.1 is held by pid {os.getpid()} ")
    assert not (tmp_path / ".golive" / "prefect-server.json").exists()


def test_free_port_is_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert local_server.port_holder(port) is None
