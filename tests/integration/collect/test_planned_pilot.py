"""The demo's planned pilot: a scenario's figures written into the source simulators come back,
through the real collectors, as the scenario's figures; a closed Sunday is recorded closed; the
outage appears on the vendor's status page as the scenario's uptime."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from golive.tasks.gates import collected, repository
from golive.tasks.gates.collect.base import collect_day
from golive.tasks.gates.collect.calendar import office_calendar
from golive.tasks.gates.collect.kinds import build
from golive.tasks.gates.collect.sim import plan
from golive.tasks.gates.collect.sim.rig import start_rig
from golive.tasks.gates.simulator import load_scenario, simulate
from golive.tasks.store import Store

pytestmark = pytest.mark.integration
SCENARIOS = Path(__file__).parents[3] / "examples" / "acme-dental" / "scenarios"
LOCS = ["loc-a", "loc-b"]
GO_LIVE = date(2026, 3, 30)  # a Monday; the scenarios' go-live


class _Ctx:
    org = None
    store = None


def test_planned_pilot_collects_to_the_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok_sc, bad_sc = load_scenario(SCENARIOS / "pilot-ok.yaml"), load_scenario(SCENARIOS / "pilot-outage.yaml")
    ok, bad = simulate(ok_sc, LOCS), simulate(bad_sc, LOCS)
    store = Store.open(f"sqlite:///{tmp_path / 'golive.db'}")
    rig = start_rig(tmp_path, LOCS, ok.start, 0, store, uptime="statuspage")
    for k, v in rig.env().items():
        monkeypatch.setenv(k, v)
    sundays = {loc: office_calendar({"closed_weekdays": ["sunday"]}) for loc in LOCS}
    days = [GO_LIVE + timedelta(days=d) for d in (5, 6, 9, 10, 11)]  # Sat, Sun, then the outage days (#2)
    try:
        plan.seed(rig, ok, GO_LIVE, sundays)
        plan.outage(rig, ok, bad, bad_sc.events("outages"), GO_LIVE)
        cs = build(_Ctx(), rig.sources(), store)  # type: ignore[arg-type]
        for d in days:
            collect_day(store, cs, d, LOCS, calendars=sundays)
    finally:
        rig.stop()
    got = repository.load_observations(store, locations=LOCS)
    col = {d: (d - got.start).days for d in days}
    src = {d: (d - ok.start).days for d in days}
    sat, sun = days[0], days[1]
    for r in range(len(LOCS)):
        acc, want = got.metrics["case_acceptance_pct"], ok.metrics["case_acceptance_pct"]
        assert (acc.numerator[r, col[sat]], acc.denominator[r, col[sat]]) == (
            want.numerator[r, src[sat]], want.denominator[r, src[sat]])
        assert not np.isfinite(acc.values[r, col[sun]])  # Sunday: nothing presented
        assert got.metrics["support_tickets"].values[r, col[sat]] == ok.metrics["support_tickets"].values[r, src[sat]]
        assert got.metrics["training_completion_pct"].values[r, col[sat]] == 100.0
    ledger = {(x["location"], x["metric"], x["day"]): x["status"] for x in collected.ledger(store)}
    assert ledger[("loc-a", "case_acceptance_pct", sun)] == "closed"
    assert collected.gaps(store) == []
    uptime = got.metrics["uptime_pct"].values
    # The outage at #2: the scenario's 80 %, less a planned short incident (<= 40 min) on the same day.
    assert all(80.0 - 40 / 14.4 <= uptime[1, col[d]] <= 80.0 for d in days[2:])
    assert 80.0 in [round(uptime[1, col[d]], 6) for d in days[2:]]
    assert all(uptime[0, col[d]] > 95 for d in days)
    tickets = got.metrics["support_tickets"].values[1, col[days[2]]]
    assert tickets == bad.metrics["support_tickets"].values[1, src[days[2]]]
