"""A long-lived local Prefect server that `golive` starts once and every later run reuses.

Why: the temporary server Prefect starts for a run without `PREFECT_API_URL` costs 10–18 s per
process and disappears with it (nothing left to see in the UI). `golive server start` runs
`prefect server start` detached with its state under `.golive/prefect`; `golive run` uses it when
it answers, else falls back to the temporary server. Measured figures are in README.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from golive.flows.engine import prefect_env
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import UserInputError

DEFAULT_PORT = 4270


def default_port() -> int:
    """`GOLIVE_SERVER_PORT` overrides 4270 (the port `golive server start` listens on)."""
    return int(os.environ.get("GOLIVE_SERVER_PORT", DEFAULT_PORT))


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    url: str  # the API URL, e.g. http://127.0.0.1:4270/api
    reports_url: str | None = None  # golive's read-only report server (out/), e.g. http://127.0.0.1:4271
    reports_pid: int | None = None

    @property
    def ui_url(self) -> str:
        return self.url.removesuffix("/api")


def _info_file() -> Path:
    return paths.state_dir() / "prefect-server.json"


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def running() -> ServerInfo | None:
    """The recorded server if it answers its health check, else None."""
    try:
        data = json.loads(_info_file().read_text())
        info = ServerInfo(pid=int(data["pid"]), url=str(data["url"]), reports_url=data.get("reports_url"),
                          reports_pid=data.get("reports_pid"))
    except (OSError, ValueError, KeyError):
        return None
    return info if healthy(info.url) else None


class PortBusy(UserInputError):
    """The port is held by something that is not this golive home's server."""


def _listener_pid(port: int) -> int | None:
    """The pid listening on 127.0.0.1/0.0.0.0:`port` (Linux /proc; None when not visible)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def port_holder(port: int) -> str | None:
    """None when 127.0.0.1:`port` is free, else a description of what holds it."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return None
        except OSError:
            pass
    pid = _listener_pid(port)
    who = "another process"
    if pid is not None:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = ""
        who = f"pid {pid}" + (f" ({cmd[:120]})" if cmd else "")
    if healthy(f"http://127.0.0.1:{port}/api"):
        who = f"another Prefect server, not this golive home's ({who})"
    return who


def _start_reports(port: int, env: dict[str, str]) -> tuple[int, int]:
    """The read-only report server for out/ (flows/cli/report_server.py); (pid, port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "golive.flows.cli.report_server", "--dir", str(paths.out_dir()), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the report server could not listen on 127.0.0.1:{port} (GOLIVE_REPORTS_PORT)")
        try:
            httpx.head(f"http://127.0.0.1:{port}/", timeout=0.5)
            return proc.pid, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"the report server did not answer on 127.0.0.1:{port}")


def start(port: int | None = None, wait_s: float = 120.0, reports_port: int | None = None) -> ServerInfo:
    """Start the server, or return this home's server when it is up; PortBusy when something else
    holds the port (before, golive reported success and later runs reported to the other server)."""
    current = running()
    if current is not None:
        return current
    port = default_port() if port is None else port
    holder = port_holder(port)
    if holder is not None:
        raise PortBusy(f"port {port} on 127.0.0.1 is held by {holder}; stop it or use --port")
    if reports_port is None and os.environ.get("GOLIVE_REPORTS_PORT"):
        reports_port = int(os.environ["GOLIVE_REPORTS_PORT"])
    env = {**os.environ, **prefect_env.embedded_defaults()}
    for key in [k for k in env if k.startswith("PREFECT_SERVER_SERVICES_") and k.endswith("_ENABLED")]:
        del env[key]  # a long-lived server runs its schedules, late-run and pause services
    env.pop("PREFECT_API_URL", None)
    # The UI's own API address: without it the UI calls 127.0.0.1:4200 ("Can't connect to Server API").
    env["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
    env["PREFECT_UI_URL"] = f"http://127.0.0.1:{port}"
    env["PREFECT_SERVER_API_HOST"] = "127.0.0.1"
    env["PREFECT_SERVER_API_PORT"] = str(port)
    log = paths.state_dir() / "prefect" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--analytics-off"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    info = ServerInfo(pid=proc.pid, url=f"http://127.0.0.1:{port}/api")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with {proc.returncode}; see {log}")
        if healthy(info.url):
            reports = _start_reports(port + 1 if reports_port is None else reports_port, env)
            info = ServerInfo(pid=info.pid, url=info.url, reports_url=f"http://127.0.0.1:{reports[1]}",
                              reports_pid=reports[0])
            _info_file().write_text(json.dumps({"pid": info.pid, "url": info.url, "reports_url": info.reports_url,
                                                "reports_pid": info.reports_pid}))
            return info
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"prefect server did not answer within {wait_s:.0f} s; see {log}")


def stop() -> bool:
    try:
        data = json.loads(_info_file().read_text())
    except (OSError, ValueError):
        return False
    for key in ("pid", "reports_pid"):
        try:
            os.killpg(int(data[key]), signal.SIGTERM)
        except (ProcessLookupError, PermissionError, KeyError, ValueError, TypeError):
            pass
    _info_file().unlink(missing_ok=True)
    return True


def use_if_running() -> ServerInfo | None:
    """Point this process at the local server when no PREFECT_API_URL is set and it is up."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    info = running()
    if info is not None:
        os.environ["PREFECT_API_URL"] = info.url
    return info
