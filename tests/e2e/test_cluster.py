"""The shared-installation topology of deploy/ (issue 18).

The nginx configuration is checked by nginx itself (fast, in `make test`); starting the whole
topology (PostgreSQL databases, Redis, 2 API servers, services, nginx, 2 workers) takes about a
minute on 2 cores, so that test is `slow` (`make test-slow`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "cluster.py"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_configuration_is_valid(tmp_path: Path) -> None:
    conf = (ROOT / "deploy" / "nginx.conf.template").read_text()
    upstreams = "        server 127.0.0.1:9;\n        server 127.0.0.1:10;"
    conf = conf.replace("@STATE@", str(tmp_path)).replace("@UPSTREAMS@", upstreams).replace("@PORT@", "1")
    (tmp_path / "nginx.conf").write_text(conf)
    (tmp_path / "nginx-tmp").mkdir()
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-e", str(tmp_path / "err.log"), "-c",
                             str(tmp_path / "nginx.conf")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def _cluster(home: Path, *args: str) -> str:
    env = {**os.environ, "GOLIVE_HOME": str(home)}
    result = subprocess.run([sys.executable, str(CLUSTER), *args], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("redis-server") is None,
                    reason="nginx and redis-server needed")
def test_cluster_starts_serves_through_nginx_and_stops(tmp_path: Path, pg_admin_url: str) -> None:
    pytest.importorskip("prefect_redis")
    home = tmp_path / "home"
    try:
        up = json.loads(_cluster(home, "up", "--workers", "2", "--limit", "1"))
        status = json.loads(_cluster(home, "status"))
        assert all(status["processes"].values()), status
        assert status["health"] == {"proxy": 200, "api-1": 200, "api-2": 200}
        for _ in range(8):
            with urllib.request.urlopen(f"{up['api']}/health", timeout=10) as resp:
                assert resp.status == 200
        served_by = {line.split("upstream=")[1].split()[0]
                     for line in (home / "cluster" / "nginx-access.log").read_text().splitlines() if "upstream=" in line}
        assert len(served_by) == 2  # both API servers answered through the proxy
        state = json.loads((home / "cluster" / "state.json").read_text())
        # Zombie detection: the automation is installed, and the workers' flow runs heart-beat.
        with urllib.request.urlopen(urllib.request.Request(
                f"{up['api']}/automations/filter", data=b"{}", headers={"Content-Type": "application/json"}),
                timeout=10) as resp:
            names = [a["name"] for a in json.loads(resp.read())]
        assert names.count("golive: crash zombie flow runs") == 1, names
        for name in ("worker-1", "worker-2"):
            environ = Path(f"/proc/{state['pids'][name]}/environ").read_bytes().split(b"\0")
            assert b"PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30" in environ, name
    finally:
        _cluster(home, "down")
    assert not (home / "cluster" / "state.json").exists()
    import psycopg

    with psycopg.connect(pg_admin_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert state["prefect_db"] not in names and state["store_db"] not in names




@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("redis-server") is None,
                    reason="nginx and redis-server needed")
def test_the_clusters_services_crash_a_run_whose_host_died(tmp_path: Path, pg_admin_url: str) -> None:
    """The zombie automation `make cluster` installs fires in the topology itself: events reach the
    separate services process through Redis, and it marks a dead host's run Crashed, through nginx,
    with no `golive runs reconcile`."""
    pytest.importorskip("prefect_redis")
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from worker_support import APPROVAL_DECISIONS, WorkPool, approval_book, golive_env, kill_host, wait_for

    home = tmp_path / "home"
    try:
        up = json.loads(_cluster(home, "up", "--workers", "1", "--limit", "1"))
        env = golive_env(tmp_path, "cluster-zombie-key")
        book = tmp_path / "zombie.yaml"
        book.write_text(approval_book("cluster-zombie"))
        with temporary_settings({PREFECT_API_URL: up["api"]}):
            pool = WorkPool(api_url=up["api"], env=env, workdir=tmp_path).create()
            try:
                worker = pool.start_worker("zombie-host", limit=1, extra_env={
                    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30", "GOLIVE_PAUSE_AT": "approval:before=900"})
                [run_id] = pool.trigger([{"runbook": str(book), "run_key": "cluster-zombie-1",
                                          "decisions": APPROVAL_DECISIONS}])  # answered: it holds, not suspends
                wait_for([run_id], lambda r: r.state.type.value == "RUNNING", 240, "running")
                time.sleep(3)  # its first heartbeat goes out as it starts running
                kill_host(worker)
                killed = time.monotonic()
                [after] = wait_for([run_id], lambda r: r.state.type.value != "RUNNING", 90 + 120, "crashed")
                took = time.monotonic() - killed
            finally:
                pool.stop()
    finally:
        _cluster(home, "down")
    assert after.state.type.value == "CRASHED", after.state
    assert "golive zombie automation" in (after.state.message or ""), after.state.message
    print(f"crashed by the cluster's services {took:.0f} s after the kill (within 90 s, heartbeat 30 s)")
