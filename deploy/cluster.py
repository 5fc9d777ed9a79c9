"""The shared-installation topology as plain processes on this machine (`make cluster`).

    python deploy/cluster.py up [--workers N] [--limit L]   # start, print the addresses
    python deploy/cluster.py status                         # health through the proxy, per process
    python deploy/cluster.py down                           # stop everything, drop its databases

Following Prefect's guide to scaling self-hosted Prefect: PostgreSQL for Prefect (and a second
database for the golive store), Redis for messaging, event ordering, concurrency leases and the
docket (through prefect-redis), two API server processes (`prefect server start --no-services`),
one background-services process (`prefect server services start`), nginx in front, and N process
workers polling one work pool through nginx, each with `--limit` and the pool with a concurrency
limit. Flow runs heart-beat every 30 s, and `golive runs install-automations` installs the
automation that marks a run Crashed when its heartbeats stop. Every port is picked free; the databases are created here and dropped by `down`; a Redis
of its own runs on a free port (a site would point at its own Redis instead).

State (pids, ports, logs, database names) lives in `<GOLIVE_HOME or .golive>/cluster/`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STATE = Path(os.environ.get("GOLIVE_HOME", ROOT / ".golive")) / "cluster"
PG_ADMIN = os.environ.get("GOLIVE_CLUSTER_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
POOL = "golive-cluster"
HEARTBEAT_S = 30  # PREFECT_FLOWS_HEARTBEAT_FREQUENCY of the workers' flow runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def db_url(name: str, driver: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].split("://", 1)[1]
    return f"postgresql+{driver}://{base}/{name}"


def prefect_env(state: dict[str, Any]) -> dict[str, str]:
    redis = f"redis://127.0.0.1:{state['ports']['redis']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(STATE / "prefect-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": db_url(state["prefect_db"], "asyncpg"),
        "PREFECT_API_DATABASE_MIGRATE_ON_START": "false",  # migrated once by `up`, not raced by two servers
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_URL": f"{redis}/0",
        "PREFECT_SERVER_DOCKET_URL": f"{redis}/1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"{state['proxy']}/api",
        "PREFECT_API_URL": f"{state['proxy']}/api",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    })
    return env


def worker_env(state: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(STATE / "worker-home"),
        "PREFECT_API_URL": f"{state['proxy']}/api",
        "GOLIVE_DATABASE_URL": db_url(state["store_db"], "psycopg"),
        "GOLIVE_HOME": str(STATE / "golive-home"),
        "GOLIVE_OUT": str(STATE / "out"),
        "GOLIVE_CHECKOUT": str(ROOT),
        # One audit key for every worker, as a secret reference (README "Shared installation").
        "GOLIVE_CLUSTER_AUDIT_KEY": state["audit_key"],
        "GOLIVE_AUDIT_KEY": "env:GOLIVE_CLUSTER_AUDIT_KEY",
        # Flow runs heart-beat every 30 s (Prefect's minimum; 180 by default), so the zombie
        # automation (90 s) marks a run Crashed soon after its host dies (flows/engine/zombies.py).
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_S),
    })
    return env


def spawn(state: dict[str, Any], name: str, argv: list[str], env: dict[str, str]) -> None:
    log = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            start_new_session=True)  # its own group: `down` ends it and its children
    state["pids"][name] = proc.pid
    save(state)


def wait_http(url: str, timeout: float = 120.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"no answer from {url} after {timeout:.0f} s (logs in {STATE})")


def save(state: dict[str, Any]) -> None:
    (STATE / "state.json").write_text(json.dumps(state, indent=2))


def load() -> dict[str, Any] | None:
    path = STATE / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def up(workers: int, limit: int) -> dict[str, Any]:
    if load() is not None:
        raise SystemExit(f"a cluster is already up (state in {STATE}); run `make cluster-down` first")
    if shutil.which("nginx") is None or shutil.which("redis-server") is None:
        raise SystemExit("make cluster needs nginx and redis-server on PATH (apt: nginx redis-server)")
    STATE.mkdir(parents=True, exist_ok=True)
    for old_log in STATE.glob("*.log"):  # counts (runs per worker, proxy errors) are per cluster
        old_log.unlink()
    for sub in ("nginx-tmp", "prefect-home", "worker-home", "golive-home", "out"):
        (STATE / sub).mkdir(exist_ok=True)
    tag = secrets.token_hex(4)
    ports = {"redis": free_port(), "api-1": free_port(), "api-2": free_port(), "proxy": free_port()}
    state: dict[str, Any] = {"ports": ports, "pids": {}, "prefect_db": f"golive_cluster_prefect_{tag}",
                             "store_db": f"golive_cluster_store_{tag}", "audit_key": secrets.token_hex(32),
                             "proxy": f"http://127.0.0.1:{ports['proxy']}", "workers": workers, "limit": limit,
                             "timings_s": {}}
    save(state)
    t0 = time.monotonic()
    pg(f'CREATE DATABASE "{state["prefect_db"]}"')
    pg(f'CREATE DATABASE "{state["store_db"]}"')
    spawn(state, "redis", ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no"], dict(os.environ))
    env = prefect_env(state)
    run([str(BIN / "prefect"), "server", "database", "upgrade", "-y"], env)
    state["timings_s"]["migrate"] = round(time.monotonic() - t0, 1)
    # One after the other: each API server registers Prefect's block types at start-up, and two
    # doing it at once collide on `uq_block_type__slug` (seen here: the second one exits).
    for name in ("api-1", "api-2"):
        spawn(state, name, [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                            str(ports[name]), "--no-services"], env)
        wait_http(f"http://127.0.0.1:{ports[name]}/api/health")
    spawn(state, "services", [str(BIN / "prefect"), "server", "services", "start"], env)
    upstreams = "\n".join(f"        server 127.0.0.1:{ports[n]} max_fails=2 fail_timeout=5s;" for n in ("api-1", "api-2"))
    conf = (Path(__file__).parent / "nginx.conf.template").read_text()
    conf = conf.replace("@STATE@", str(STATE)).replace("@UPSTREAMS@", upstreams).replace("@PORT@", str(ports["proxy"]))
    (STATE / "nginx.conf").write_text(conf)
    spawn(state, "nginx", ["nginx", "-p", str(STATE), "-e", str(STATE / "nginx-error.log"), "-c",
                            str(STATE / "nginx.conf"), "-g", "daemon off;"],
          dict(os.environ))
    wait_http(f"{state['proxy']}/api/health")
    state["timings_s"]["api_ready"] = round(time.monotonic() - t0, 1)
    wenv = worker_env(state)
    run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process", "--overwrite"], wenv)
    run([str(BIN / "prefect"), "work-pool", "set-concurrency-limit", POOL, str(workers * limit)], wenv)
    run([str(BIN / "golive"), "runs", "install-automations"], wenv)  # zombie detection, once
    for i in range(1, workers + 1):
        spawn(state, f"worker-{i}", [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name",
                                     f"golive-worker-{i}", "--limit", str(limit), "--type", "process"], wenv)
    state["timings_s"]["up"] = round(time.monotonic() - t0, 1)
    save(state)
    return state


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def status() -> dict[str, Any]:
    state = load()
    if state is None:
        return {"up": False}
    procs = {name: alive(pid) for name, pid in state["pids"].items()}
    health = {}
    for name, url in [("proxy", f"{state['proxy']}/api/health"),
                      *[(n, f"http://127.0.0.1:{state['ports'][n]}/api/health") for n in ("api-1", "api-2")]]:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                health[name] = resp.status
        except OSError as exc:
            health[name] = str(exc)
    return {"up": True, "proxy": state["proxy"], "processes": procs, "health": health, "timings_s": state["timings_s"]}


def down() -> None:
    state = load()
    if state is None:
        print("no cluster is up")
        return
    order = [n for n in state["pids"] if n.startswith("worker")] + ["services", "nginx", "api-1", "api-2", "redis"]
    for name in order:
        pid = state["pids"].get(name)
        if pid and alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)  # the group this script started for it
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 20
    for pid in state["pids"].values():
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)
    for db in (state["prefect_db"], state["store_db"]):
        pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    (STATE / "state.json").unlink()
    print(f"cluster stopped; databases {state['prefect_db']} and {state['store_db']} dropped; logs kept in {STATE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "status", "down"])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GOLIVE_CLUSTER_WORKERS", "2")))
    parser.add_argument("--limit", type=int, default=int(os.environ.get("GOLIVE_CLUSTER_LIMIT", "2")))
    args = parser.parse_args()
    if args.command == "up":
        try:
            state = up(args.workers, args.limit)
        except BaseException:
            print(f"start failed; logs in {STATE}; stopping what started", file=sys.stderr)
            down()
            raise
        print(json.dumps({"proxy": state["proxy"], "ui": state["proxy"], "api": f"{state['proxy']}/api",
                          "work_pool": POOL, "workers": args.workers, "limit_per_worker": args.limit,
                          "timings_s": state["timings_s"], "state": str(STATE)}, indent=2))
    elif args.command == "status":
        print(json.dumps(status(), indent=2))
    else:
        down()


if __name__ == "__main__":
    main()
