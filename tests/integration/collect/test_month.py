"""A seeded period collected from every simulator gives back exactly the seeded values
(0 disagreements); the full month is `slow`, a short period stays in `make test`."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from collect_support import collectors, disagreements, open_rig, stored

from golive.tasks.gates.collect.base import collect_day
from golive.tasks.gates.collected import ledger

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("locations,days,uptime,training", [
    (["loc-a", "loc-b"], 3, "probe", "xapi"),
    (["loc-a", "loc-b"], 3, "statuspage", "lms_csv"),  # the vendor's status page, the LMS's CSV export
    pytest.param(["loc-a", "loc-b", "loc-c"], 30, "probe", "xapi", marks=pytest.mark.slow),
    pytest.param(["loc-a", "loc-b", "loc-c"], 30, "statuspage", "lms_csv", marks=pytest.mark.slow),
])
def test_seeded_period_collects_to_the_seeded_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     locations: list[str], days: int, uptime: str,
                                                     training: str) -> None:
    store, rig = open_rig(tmp_path, monkeypatch, locations, days, uptime=uptime, training=training)
    try:
        cs = collectors(rig, store)
        for day in rig.month.dates():
            collect_day(store, cs, day, locations, run_id="test")
    finally:
        rig.stop()
    got = stored(store)
    assert disagreements(rig.month.truth, got) == []
    assert len(got) >= days * len(locations) * 12  # 12 daily metrics, plus the weekly survey
    rows = ledger(store)
    assert {r["source"] for r in rows} == {"opendental", "zendesk", training, uptime, "survey"}
    assert all(r["status"] == "ok" and r["query"] for r in rows)
    assert rig.zendesk.rate_limited == 0


def test_a_period_read_once_gives_the_same_values_with_fewer_requests(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Open Dental's `prefetch` (a backfill reads each office's edits once) against day-by-day reads."""
    from golive.tasks.gates.collect.opendental import OpenDentalCollector

    locations = ["loc-a", "loc-b"]
    store, rig = open_rig(tmp_path, monkeypatch, locations, 6, gap_days={("loc-b", rig_day(2))})
    try:
        daily = collectors(rig, store, include=("opendental",))
        for day in rig.month.dates():
            collect_day(store, daily, day, locations)
        by_day = stored(store)
        period = collectors(rig, store, include=("opendental",))
        period[0].prefetch(rig.month.start, locations)  # type: ignore[attr-defined]
        for day in rig.month.dates():
            collect_day(store, period, day, locations)
    finally:
        rig.stop()
    assert stored(store) == by_day
    assert disagreements({k: v for k, v in rig.month.truth.items() if k[1] in daily[0].metrics}, by_day) == []
    d, p = (c for c in (daily[0], period[0]) if isinstance(c, OpenDentalCollector))
    assert p.requests < d.requests / 2
    assert ("loc-b", "case_acceptance_pct", rig_day(2)) not in by_day  # the silent day stays missing


def rig_day(n: int) -> date:
    from collect_support import START

    return START + timedelta(days=n)
