"""Start a compliance SIMULATOR as a real process (tests, demo, bench) and wait until it answers."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from golive.tasks.compliance.simulators import SIMULATOR_HEADER
from golive.tasks.foundation.processes import stop_process


@dataclass
class SimulatorProcess:
    url: str  # the service root: .../scim/v2 or .../api/v1
    root: str  # scheme://host:port
    token: str
    proc: subprocess.Popen[bytes]
    ca_file: str | None = None
    workdir: Path | None = None

    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The simulator's own controls (`/_sim/...`), not part of the simulated API."""
        with httpx.Client(verify=self.ca_file or True, timeout=10) as client:
            r = client.post(f"{self.root}{path}", json=body) if body is not None else client.get(f"{self.root}{path}")
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        stop_process(self.proc)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _start(which: str, args: list[str], service_path: str, health: str, *, token: str | None, log_file: Path | None,
           certfile: str | None, keyfile: str | None, ca_file: str | None, startup_s: float) -> SimulatorProcess:
    token = token or secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix=f"golive-{which}-sim-"))
    ready = workdir / "ready.json"
    tls = ["--certfile", certfile, "--keyfile", keyfile] if certfile and keyfile else []
    out = open(log_file, "wb") if log_file else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "golive.tasks.compliance.simulators", which, *args, "--ready-file", str(ready), *tls],
        stdout=out, stderr=out, env={**os.environ, "GOLIVE_SIM_TOKEN": token},
    )
    deadline = time.monotonic() + startup_s
    scheme = "https" if tls else "http"
    sim: SimulatorProcess | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {which} simulator exited with {proc.returncode}")
        if sim is None and ready.exists():
            port = json.loads(ready.read_text())["port"]
            root = f"{scheme}://127.0.0.1:{port}"
            sim = SimulatorProcess(f"{root}{service_path}", root, token, proc, ca_file, workdir)
        if sim is not None:
            try:
                if httpx.get(f"{sim.root}{health}", timeout=1, verify=ca_file or True).headers.get(SIMULATOR_HEADER):
                    return sim
            except httpx.TransportError:
                pass
        time.sleep(0.05)  # polling a starting process: there is no event to wait on
    proc.kill()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError(f"the {which} simulator did not start within {startup_s:.0f} s")


def start_scim(data: Path, *, token: str | None = None, log_file: Path | None = None,
               startup_s: float = 30.0) -> SimulatorProcess:
    """The SCIM simulator serving the resources in `data` (JSON); its base URL ends in /scim/v2."""
    return _start("scim", ["--data", str(data)], "/scim/v2", "/", token=token, log_file=log_file, certfile=None,
                  keyfile=None, ca_file=None, startup_s=startup_s)


def start_platform(*, token: str | None = None, certfile: str | None = None, keyfile: str | None = None,
                   ca_file: str | None = None, log_file: Path | None = None,
                   startup_s: float = 30.0) -> SimulatorProcess:
    """The platform API simulator (over TLS when a certificate is given); base URL ends in /api/v1."""
    return _start("platform", [], "/api/v1", "/api/v1/health", token=token, log_file=log_file, certfile=certfile,
                  keyfile=keyfile, ca_file=ca_file, startup_s=startup_s)
