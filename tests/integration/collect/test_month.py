"""A seeded period collected from every simulator gives back exactly the seeded values
(0 disagreements); the full month is `slow`, a short period stays in `make test`."""

from __future__ import annotations

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
