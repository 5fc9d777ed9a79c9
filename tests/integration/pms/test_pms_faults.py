"""The issue's target: 20% 504, 10% 429, 5% responses dropped after commit; 200 write-backs all
complete, 0 duplicate plans (or attachments) on the server, 0 requests before a Retry-After expired.
Pacing is off here (server throttle 0, client interval 0): this is about faults, not throttling."""

from __future__ import annotations

from collections import Counter

import pytest
from pms_support import od_connector

from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.protocol import PmsError
from golive.tasks.pms.retry import RetryPolicy, call
from golive.tasks.pms.simulator.process import SimProcess
from golive.tasks.pms.writeback import WritebackKey, write_back
from golive.tasks.store import Store

pytestmark = pytest.mark.integration

# Small waits keep the test short; Retry-After stays far above any scheduling noise.
POLICY = RetryPolicy(attempts=10, initial_s=0.005, max_s=0.05, jitter_s=0.005)


def _connector(sim: SimProcess) -> OpenDentalConnector:
    sim.configure(throttle_s=0)
    return od_connector(sim, interval_s=0.0, retry=POLICY)


def test_200_writebacks_under_faults(clean_sim: SimProcess, store: Store) -> None:
    sim = clean_sim
    conn = _connector(sim)
    planned = {str(p): [x.procedure_id for x in conn.procedures(str(p)) if x.status == "TP"] for p in range(1, 21)}
    plans_before = len(sim.treatplans())
    sim.configure(error_rate=0.2, rate_limit_rate=0.1, drop_after_commit_rate=0.05, retry_after_s=0.05, seed=11)
    results = []
    for i in range(200):
        pat = str(i % 20 + 1)
        key = WritebackKey("integration-validation", "downtown", "pms-writeback", f"P-test{i}", "1")
        results.append(write_back(conn, store, key, pat, "golive load test", planned[pat], policy=POLICY))
    stats = sim.status()["stats"]
    sim.configure(error_rate=0, rate_limit_rate=0, drop_after_commit_rate=0)
    conn.close()

    assert len(results) == 200 and all(r.plan_id for r in results)
    assert len({r.plan_id for r in results}) == 200
    plans = [p for p in sim.treatplans()][plans_before:]
    markers = Counter(p["Note"] for p in plans)
    assert len(plans) == 200 and max(markers.values()) == 1, "duplicate plans on the server"
    attaches = Counter((a["TreatPlanNum"], a["ProcNum"]) for a in sim.treatplanattaches())
    assert max(attaches.values()) == 1, "duplicate attachments on the server"
    assert sum(r.attached for r in results) == sum(len(planned[str(i % 20 + 1)]) for i in range(200))
    assert stats["retry_after_violations"] == 0
    # The faults really happened (else this test would prove nothing).
    assert stats["errors"] > 50 and stats["rate_limited"] > 20 and stats["dropped"] > 3


def test_naive_retry_would_duplicate(clean_sim: SimProcess) -> None:
    """Control: retrying a bare POST under dropped responses creates duplicates, which the test above
    would catch."""
    conn = _connector(clean_sim)
    before = len(clean_sim.treatplans())
    clean_sim.configure(drop_after_commit_rate=0.5, seed=5)
    for i in range(20):
        try:
            call(lambda i=i: conn.create_treatment_plan("2", "naive", f"naive-{i}"), POLICY)
        except PmsError:
            pass
    clean_sim.configure(drop_after_commit_rate=0)
    conn.close()
    notes = Counter(p["Note"] for p in clean_sim.treatplans()[before:])
    assert max(notes.values()) > 1
