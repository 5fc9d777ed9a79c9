"""Many Open Dental SIMULATORS behind one loopback server: one per location, each its own database
and customer key, mounted at `/<location>/api/v1` (a real office has its own API root and key;
Open Dental throttles per customer key, apiimplementation.html "Throttling", so each mount has
its own throttle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golive.tasks.gates.collect.sim.server import Served, serve
from golive.tasks.pms.simulator.app import SimSettings, create_app
from golive.tasks.pms.simulator.db import SimDb
from golive.tasks.pms.simulator.faults import FaultState


@dataclass
class OdFarm:
    served: Served
    dbs: dict[str, SimDb]
    faults: dict[str, FaultState] = field(default_factory=dict)
    developer_key: str = "sim-developer-key"

    def url(self, location: str) -> str:
        return f"{self.served.url}/{location}/api/v1"

    def customer_key(self, location: str) -> str:
        return f"sim-customer-{location}"

    def connection(self, location: str, interval_s: float) -> dict[str, Any]:
        """A `pms.connection` override for this location (secrets by env reference: see `env`)."""
        return {"product": "opendental", "base_url": self.url(location), "allow_insecure_local": True,
                "request_interval_s": interval_s, "secret": f"env:GOLIVE_SIM_OD_{_env(location)}",
                "developer_secret": "env:GOLIVE_SIM_OD_DEV"}

    def env(self) -> dict[str, str]:
        out = {"GOLIVE_SIM_OD_DEV": self.developer_key}
        out.update({f"GOLIVE_SIM_OD_{_env(loc)}": self.customer_key(loc) for loc in self.dbs})
        return out

    def stop(self) -> None:
        self.served.stop()
        for db in self.dbs.values():
            db.conn.close()


def _env(location: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in location).upper()


class _Offices:
    """Dispatch `/<location>/...` to that office's simulator, which sees the rest as its own path
    (so its throttle and documented gates, which look at `/api/...`, apply as for a lone office)."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        seg, _, rest = str(scope.get("path", "")).lstrip("/").partition("/")
        app = self.apps.get(seg)
        if scope["type"] != "http" or app is None:
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"no such office"})
            return
        path = "/" + rest
        await app({**scope, "path": path, "raw_path": path.encode(), "root_path": ""}, receive, send)


def start_farm(directory: Path, locations: list[str], *, throttle_s: float = 0.0) -> OdFarm:
    directory.mkdir(parents=True, exist_ok=True)
    dbs: dict[str, SimDb] = {}
    faults: dict[str, FaultState] = {}
    apps: dict[str, Any] = {}
    for loc in locations:
        db = dbs[loc] = SimDb(directory / f"od-{loc}.db")
        state = faults[loc] = FaultState()
        state.configure(throttle_s=throttle_s)
        settings = SimSettings(customer_key=f"sim-customer-{loc}")
        apps[loc] = create_app(db, settings, state)
    return OdFarm(serve(_Offices(apps)), dbs, faults)
