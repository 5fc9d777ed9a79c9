"""Run-key leases through the CLI: a busy key exits 2 naming its holder; a dead holder's run
becomes `crashed` (with an audit entry) when the key is taken over; `golive runs` lists them."""

from __future__ import annotations

import re
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.tasks.store import Store, leases
from golive.tasks.store.models import RunLeaseRow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "runs-cli-key")
    monkeypatch.delenv("GOLIVE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_busy_run_key_exits_2_naming_the_holder(home: Path) -> None:
    store = Store.open()
    holder = leases.Holder.take(store, "busy-key")
    try:
        result = CliRunner().invoke(app, ["run", str(FIXTURES / "runbooks" / "every-store-kind.yaml"),
                                          "--org", str(FIXTURES / "organization-min.yaml"), "--run-key", "busy-key"])
    finally:
        holder.close()
        store.dispose()
    assert result.exit_code == 2, result.output
    assert re.fullmatch(rf"error: run key busy-key is running \(pid {holder.lease.pid} on host "
                        rf"{re.escape(socket.gethostname())} since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\n",
                        result.output), result.output


def test_dead_holder_is_taken_over_and_its_run_marked_crashed(home: Path) -> None:
    store = Store.open()
    exited = subprocess.Popen(["true"])
    exited.wait()  # reaped: its pid names no live process
    dead_pid = exited.pid
    now = datetime.now(UTC)
    store.start_run(run_id="r-dead", run_key="k1", runbook="every-store-kind", parameters={})
    store.audit.append("run.start", {"runbook": "every-store-kind", "run_key": "k1"}, run_id="r-dead")
    with store.session() as s:
        s.execute(insert(RunLeaseRow), {"run_key": "k1", "token": "t", "run_id": "r-dead", "host": socket.gethostname(),
                                        "pid": dead_pid, "acquired_at": now, "heartbeat_at": now})
    running = CliRunner().invoke(app, ["runs", "--state", "running"])
    assert "running     k1  every-store-kind  r-dead  (no live process: crashed; the next run of the key marks it)" \
        in running.output, running.output
    holder = leases.Holder.take(store, "k1", "r-new")
    holder.close()
    assert store.get_run("r-dead").state == "crashed"  # type: ignore[union-attr]
    assert [e.event for e in store.audit.entries(run_id="r-dead")] == ["run.start", "run.crashed"]
    store.dispose()
    listed = CliRunner().invoke(app, ["runs", "--state", "crashed"])
    assert listed.exit_code == 0 and "crashed     k1  every-store-kind  r-dead" in listed.output, listed.output
    shown = CliRunner().invoke(app, ["runs", "show", "k1"])
    assert shown.exit_code == 0 and shown.output.startswith("run key k1: no live run\nrun r-dead"), shown.output
    bad = CliRunner().invoke(app, ["runs", "--state", "sleeping"])
    assert bad.exit_code == 2 and "expected one of" in bad.output


@pytest.mark.parametrize(("age_s", "busy"), [(5, True), (120, False)], ids=["live-other-host", "expired"])
def test_lease_of_another_host_expires_by_heartbeat(home: Path, age_s: int, busy: bool) -> None:
    from datetime import timedelta

    store = Store.open()
    beat = datetime.now(UTC) - timedelta(seconds=age_s)
    with store.session() as s:
        s.execute(insert(RunLeaseRow), {"run_key": "k2", "token": "t", "run_id": None, "host": "other-host",
                                        "pid": 1, "acquired_at": beat, "heartbeat_at": beat})
    try:
        if busy:
            with pytest.raises(leases.RunKeyBusy, match=r"^run key k2 is running \(pid 1 on host other-host since "):
                leases.acquire(store, "k2")
        else:
            lease = leases.acquire(store, "k2")  # the TTL (30 s) has passed: taken over
            assert leases.current(store, "k2").token == lease.token
    finally:
        store.dispose()
