"""`make demo`, the metrics part: the pilot's days collected from the source SIMULATORS (Open Dental
per office, Zendesk, an xAPI LRS, probe results, the champion survey export) by the
`collect-daily-metrics` runbook, not imported from a CSV; then `golive metrics status`.

The week after the simulated pilot is collected, so the gates above keep reading their scenario.
One office's Open Dental has no data on one day: the status shows it missing, and a gate over
that day would be inconclusive. Pacing is scaled down (Open Dental 5 s -> 5 ms) to run in seconds.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from golive.tasks.foundation import paths

# The pilot the readiness assessment picks in the example group (tests/e2e/test_gates_runbooks.py).
PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
START = date(2026, 4, 27)  # the week after the simulated pilot (2026-03-30 .. 2026-04-26)
DAYS = 7
GAP = ("harbor-point", START + timedelta(days=2))


def runs(demo_run: Any) -> tuple[Any, ...]:
    return (
        demo_run(
            "collect-daily-metrics",
            "A week of pilot metrics collected from the source simulators (Open Dental, Zendesk, xAPI LRS, probes, survey)",
            params={"sources": "@metric_sources", "start": str(START), "end": str(START + timedelta(days=DAYS - 1)),
                    "locations": PILOT, "live_only": False},
        ),
    )


def start(found: dict[str, Any]) -> Any:
    """Every metric-source simulator, seeded for the pilot's week; secrets reach golive as env references."""
    from golive.tasks.gates.collect.sim.rig import start_rig
    from golive.tasks.store import Store

    state = paths.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    rig = start_rig(state / "metric-sources", PILOT, START, DAYS, Store.open(), gap_days={GAP}, od_throttle_s=0.004)
    os.environ.update(rig.env())
    found["metric_sources"] = rig.sources(od_interval_s=0.005)
    return rig


def show(console: Console) -> None:
    from golive.tasks.gates.collected import status
    from golive.tasks.store import Store

    rows = status(Store.open(), locations=PILOT)
    table = Table("location", "metric", "last day", "source", "days", "missing days",
                  title="golive metrics status (collected from the simulators)")
    for r in rows:
        table.add_row(r["location"], r["metric"], r["last_day"] or "never", r["source"] or "-",
                      str(r["collected_days"]), ", ".join(r["missing_days"]) or "none")
    console.print(table)
