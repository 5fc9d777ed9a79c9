"""`make demo`, the PMS part: the bundled Open Dental simulator for the integration runbook, then the
PMS battery at each Open Dental version the example group runs, showing what the documentation
lets each version do ("not verified on version X (needs Y)" where a route is missing) and what the
battery would take at the location's real pace (one request per 5 s unless the organization says 1 s).

The simulator's throttle and golive's pacing are scaled down (10 ms, 20 ms) so the demo runs in
seconds; the real-pace figures are computed from the requests each battery sent.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Column, Table

from golive.tasks.foundation import paths

SIM_THROTTLE_S = 0.01
CLIENT_INTERVAL_S = 0.02
SHORT = {"passed": "pass", "failed": "FAIL", "not_verified": "not verified", "not_supported": "not supported"}


def start_simulator(found: dict[str, Any], version: str = "25.3.20.0") -> Any:
    """The Open Dental simulator as a real HTTP process; its keys reach golive as env references."""
    from golive.tasks.pms.simulator.process import start_simulator as start

    state = paths.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    sim = start(state / "opendental-simulator.db", seed=7, version=version, throttle_s=SIM_THROTTLE_S,
                log_file=state / "opendental-simulator.log")
    os.environ["GOLIVE_DEMO_OD_CUSTOMER_KEY"] = sim.customer_key
    os.environ["GOLIVE_DEMO_OD_DEVELOPER_KEY"] = sim.developer_key
    found["simulator"] = {
        "base_url": sim.url,
        "secret": "env:GOLIVE_DEMO_OD_CUSTOMER_KEY",
        "developer_secret": "env:GOLIVE_DEMO_OD_DEVELOPER_KEY",
        "allow_insecure_local": True,
        "request_interval_s": CLIENT_INTERVAL_S,
    }
    return sim


def version_matrix(console: Console, sim: Any, connection: dict[str, Any]) -> int:
    """The battery at one location per Open Dental version of the example group; returns the number
    of checks that failed outright (a "not verified" is expected where the version lacks a route)."""
    from golive.flows.engine.org import load_org
    from golive.tasks.pms.check import ALL_CHECKS, check_location
    from golive.tasks.pms.config import settings_for
    from golive.tasks.pms.pacing import describe, duration
    from golive.tasks.pms.protocol import Version
    from golive.tasks.store import Store

    org = load_org(None)
    by_family: dict[str, Any] = {}  # one location per version below 25, one for all of 25.x
    for loc in sorted(org.locations, key=lambda x: Version.parse(x.pms.version) if x.pms and x.pms.version
                      else Version.parse("0")):
        if loc.pms and loc.pms.product.value == "opendental" and loc.pms.version:
            by_family.setdefault(loc.pms.version if not loc.pms.version.startswith("25.") else "25.x", loc)
    console.rule("Open Dental PMS battery per version (simulator; pacing scaled down)")
    columns: list[list[str]] = []
    failed = 0
    store = Store.open()
    for loc in by_family.values():
        sim.configure(version=loc.pms.version)
        report = check_location(org, loc.id, store, test_patient="1", connection=connection)
        statuses = {c["check"]: c["status"] for c in report["checks"]}
        failed += sum(s == "failed" for s in statuses.values())
        sent = int(report["requests_sent"])
        interval = settings_for(loc).interval_s
        columns.append([f"{loc.id} {loc.pms.version}", *(SHORT[statuses[c]] for c in ALL_CHECKS), str(sent),
                        f"{duration(sent * interval)} at {describe(interval)}"])
        for c in report["checks"]:
            if c["status"] == "not_verified":
                console.print(f"  {loc.id}: {c['check']}: {c['summary']}", markup=False)
    table = Table(Column("check", min_width=19), *(col[0] for col in columns))  # a column per location
    for i, name in enumerate([*ALL_CHECKS, "requests", "real pace"], start=1):
        table.add_row(name, *(col[i] for col in columns))
    console.print(table)
    sim.configure(version="25.3.20.0")
    return failed
