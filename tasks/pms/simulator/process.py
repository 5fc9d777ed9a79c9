"""Start the simulator as a real process on a free loopback port (tests, demo, bench)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from golive.tasks.foundation.processes import stop_process
from golive.tasks.pms.simulator import SIMULATOR_HEADER


@dataclass
class SimProcess:
    url: str  # the API root, http://127.0.0.1:PORT/api/v1
    admin: str  # http://127.0.0.1:PORT/_sim
    proc: subprocess.Popen[bytes]
    db: Path
    developer_key: str = "sim-developer-key"
    customer_key: str = "sim-customer-key"

    def configure(self, **values: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.admin}/config", content=json.dumps(values), timeout=10)
        r.raise_for_status()
        return dict(r.json())

    def status(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.admin}/status", timeout=10).json())

    def treatplans(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.admin}/treatplans", timeout=10).json())

    def treatplanattaches(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.admin}/treatplanattaches", timeout=10).json())

    def touch(self, pat_num: int) -> None:
        httpx.post(f"{self.admin}/touch/{pat_num}", timeout=10).raise_for_status()

    def reset(self) -> dict[str, Any]:
        """Back to the seeded rows (every write undone), settings and faults left as they are."""
        r = httpx.post(f"{self.admin}/reset", timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def counts(self) -> dict[str, int]:
        """Rows per table in the simulator's database."""
        return dict(self.status()["counts"])

    def stop(self) -> None:
        stop_process(self.proc)


def start_simulator(db: Path, *, version: str = "25.3.20.0", seed: int = 1, patients: int = 50,
                    throttle_s: float = 5.0, log_file: Path | None = None, startup_s: float = 60.0) -> SimProcess:
    """`throttle_s`: the server's pacing per customer key (documented 5 s); tests scale it down."""
    # The port is bound here and the socket handed to the child, so no other process can take the
    # number between choosing it and serving on it (a shared machine).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = int(listener.getsockname()[1])
        out = open(log_file, "wb") if log_file else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "golive.tasks.pms.simulator", "--fd", str(listener.fileno()), "--db", str(db),
             "--version", version, "--seed", str(seed), "--patients", str(patients), "--throttle", str(throttle_s)],
            stdout=out, stderr=out, cwd=Path(__file__).resolve().parents[3], pass_fds=(listener.fileno(),),
        )
    base = f"http://127.0.0.1:{port}"
    sim = SimProcess(f"{base}/api/v1", f"{base}/_sim", proc, Path(db))
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the simulator exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/_sim/status", timeout=1).headers.get(SIMULATOR_HEADER):
                return sim
        except httpx.TransportError:
            time.sleep(0.1)
    sim.stop()
    raise RuntimeError("the simulator did not start in time")
