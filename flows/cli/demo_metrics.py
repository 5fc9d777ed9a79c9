"""`make demo`, the metrics part: the pilot's days COLLECTED from the source SIMULATORS (Open Dental
per office, Zendesk, an xAPI LRS, the vendor's Statuspage, the champion survey export) by the
`collect-daily-metrics` runbook; the wave-1 gate, the ROI report and the rollback watch read those
collected samples. Nothing is imported from a CSV and nothing is simulated into the store.

The simulators hold a planned pilot (`golive.tasks.gates.collect.sim.plan`): the pilot-ok
scenario's figures (case acceptance, adoption, tickets, critical bugs, training, survey) as the
rows each system would hold, from four weeks before go-live (the baseline, the same collectors and
definitions) through the week after the pilot. Sundays are closed (the organization's calendar):
recorded closed, not missing. Then the pilot-outage scenario's three-day outage appears on the
vendor's status page and in the help desk, and the pilot is collected again (re-collecting a day
replaces it). The week after the pilot is collected last, with one office's Open Dental silent on
one day: `golive metrics status` shows it missing. Pacing is scaled down (Open Dental 5 s -> 5 ms).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from golive.tasks.foundation import paths

EXAMPLE = paths.EXAMPLES / "acme-dental"
# The pilot the readiness assessment picks in the example group (tests/e2e/test_gates_runbooks.py).
PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
BASELINE_START, GO_LIVE, PILOT_END = date(2026, 3, 2), date(2026, 3, 30), date(2026, 4, 26)
WEEK_END = PILOT_END + timedelta(days=7)
GAP = ("harbor-point", PILOT_END + timedelta(days=3))  # Open Dental has nothing that day: a missing day


def _collect(demo_run: Any, what: str, start: date, end: date, before: Any, run_key: str,
             sources: str = "@metric_sources") -> Any:
    return demo_run("collect-daily-metrics", what, params={"sources": sources, "start": str(start),
                                                           "end": str(end), "locations": "@pilot", "live_only": False},
                    before=before, run_key=run_key)


def pilot_run(demo_run: Any) -> Any:
    return _collect(demo_run, "Baseline and pilot weeks collected from the source simulators (Open Dental, Zendesk,"
                    " xAPI LRS, the vendor's Statuspage, survey); Sundays closed", BASELINE_START, PILOT_END,
                    plan_pilot, "collect-pilot")


def outage_run(demo_run: Any) -> Any:
    return _collect(demo_run, "The vendor's status page shows a 3-day outage at one location: the pilot's uptime and"
                    " tickets collected again (Statuspage, Zendesk)", GO_LIVE, PILOT_END, plan_outage, "collect-outage",
                    "@outage_sources")


def week_run(demo_run: Any) -> Any:
    return _collect(demo_run, "The week after the pilot: one office's Open Dental has no data one day (missing)",
                    PILOT_END + timedelta(days=1), WEEK_END, None, "collect-week")


def start(found: dict[str, Any]) -> Any:
    """Every metric-source simulator, empty until `plan_pilot`; secrets reach golive as env references."""
    from golive.tasks.gates.collect.sim.rig import start_rig
    from golive.tasks.store import Store

    state = paths.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    rig = start_rig(state / "metric-sources", PILOT, BASELINE_START, 0, Store.open(), od_throttle_s=0.004,
                    uptime="statuspage")
    os.environ.update(rig.env())
    found["metric_sources"] = rig.sources(od_interval_s=0.005)
    found["outage_sources"] = rig.sources(include=("statuspage", "zendesk"))
    found["metric_rig"] = rig
    return rig


def _scenario(name: str, pilot: list[str]) -> tuple[Any, Any]:
    from golive.tasks.gates.simulator import load_scenario, simulate

    sc = load_scenario(EXAMPLE / "scenarios" / f"{name}.yaml")
    sc = replace(sc, days=(WEEK_END - GO_LIVE).days + 1)  # on through the week after the pilot
    return sc, simulate(sc, pilot)


def _pilot(found: dict[str, Any]) -> list[str]:
    pilot = list(found.get("pilot") or PILOT)
    if sorted(pilot) != sorted(PILOT):
        raise RuntimeError(f"the demo's source simulators hold {PILOT}, the assessment picked {pilot}")
    return pilot


def plan_pilot(found: dict[str, Any]) -> None:
    """Seed the simulators with the pilot-ok scenario (the pilot's order: `#2` means the same office)."""
    from sqlalchemy import delete

    from golive.tasks.gates.collect.calendar import calendars
    from golive.tasks.gates.collect.sim import plan
    from golive.tasks.gates.records import DailyMetricRow
    from golive.tasks.planning.organization import load_organization
    from golive.tasks.store import Store

    pilot = _pilot(found)
    _sc, obs = _scenario("pilot-ok", pilot)
    closed = calendars(load_organization(EXAMPLE / "organization.yaml"), pilot)
    # An earlier demo's simulated rehearsal rows (source "simulator") would outrank the collected ones.
    with Store.open().session() as s:
        s.execute(delete(DailyMetricRow).where(DailyMetricRow.source == "simulator",
                                               DailyMetricRow.location_id.in_(pilot)))
    plan.seed(found["metric_rig"], obs, GO_LIVE, closed, skip={GAP})


def plan_outage(found: dict[str, Any]) -> None:
    from golive.tasks.gates.collect.sim import plan

    pilot = _pilot(found)
    _ok_sc, ok = _scenario("pilot-ok", pilot)
    bad_sc, bad = _scenario("pilot-outage", pilot)
    plan.outage(found["metric_rig"], ok, bad, bad_sc.events("outages"), GO_LIVE)


def show(console: Console) -> None:
    from golive.tasks.gates.collected import status
    from golive.tasks.store import Store

    rows = status(Store.open(), locations=PILOT)
    table = Table("location", "metric", "last day", "source", "days", "closed", "missing days",
                  title="golive metrics status (collected from the simulators)")
    for r in rows:
        table.add_row(r["location"], r["metric"], r["last_day"] or "never", r["source"] or "-",
                      str(r["collected_days"]), str(r["closed_days"]), ", ".join(r["missing_days"]) or "none")
    console.print(table)
