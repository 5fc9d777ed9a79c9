"""Isolation protocol: a rollback for one location leaves every other location's data and state
untouched, and the rolled-back location's data stays accessible (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from golive.tasks.context import StepContext
from golive.tasks.gates import repository
from golive.tasks.gates.kinds import KINDS
from golive.tasks.gates.records import (
    AvailabilitySampleRow,
    DailyMetricRow,
    GateVerdictRow,
    LocationRolloutRow,
    RollbackRow,
)
from golive.tasks.gates.simulator import load_scenario, simulate

pytestmark = pytest.mark.integration

K = {k.name: k for k in KINDS}
LOCS = ["lakeview-implant", "riverside-ortho", "suburban-west", "downtown-metro"]


def snapshot(store: Any, exclude: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every gate-table row that does not belong to `exclude`, as plain tuples."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.session(readonly=True) as s:
        out["metrics"] = sorted((r.location_id, r.metric, r.day, r.value, r.numerator, r.denominator, r.source)
                                for r in s.scalars(select(DailyMetricRow)) if r.location_id != exclude)
        out["rollout"] = sorted((r.location_id, r.wave, r.status, r.workflow, r.reason, r.updated_at)
                                for r in s.scalars(select(LocationRolloutRow)) if r.location_id != exclude)
        out["rollbacks"] = sorted((r.location_id, r.state, r.triggered_at)
                                  for r in s.scalars(select(RollbackRow)) if r.location_id != exclude)
        out["samples"] = sorted((r.location_id, r.checked_at, r.ok)
                                for r in s.scalars(select(AvailabilitySampleRow)) if r.location_id != exclude)
        out["verdicts"] = sorted((r.id, r.verdict, r.as_of) for r in s.scalars(select(GateVerdictRow)))
    return out


def step(store: Any, sid: str) -> StepContext:
    return StepContext(run_id="run", run_key="key", runbook="rollback", step_id=sid, step_key=sid, store=store)


def test_rollback_of_one_location_leaves_the_others_untouched(store: Any) -> None:
    obs = simulate(load_scenario("examples/acme-dental/scenarios/pilot-outage.yaml"), LOCS)
    repository.save_samples(store, obs.samples(), "simulator")
    for i, loc in enumerate(LOCS):
        wave = "1" if i < 3 else "2"
        repository.set_rollout(store, loc, status="live" if wave == "1" else "planned",
                               workflow="platform" if wave == "1" else "previous", wave=wave)
        repository.save_probe(store, repository.ProbeSample(loc, "https://status.example/health",
                                                            datetime(2026, 4, 9, 12, tzinfo=UTC), True, 200, 12.0))
    K["gate"].run(step(store, "gate"), {"criteria": [{"id": "u", "metric": "uptime_pct", "test": "threshold", "op": ">",
                                                      "value": 99, "min_samples": 14, "window": {"last_days": 28}}],
                                        "locations": LOCS[:3], "fail_on_no_go": False, "wave": 1})
    before = snapshot(store, exclude="riverside-ortho")
    affected_before = repository.load_observations(store, locations=["riverside-ortho"]).samples()

    hits = K["rollback.triggers"].run(step(store, "triggers"), {"locations": LOCS, "as_of": "2026-04-10"})
    assert hits["locations"] == ["riverside-ortho"]
    K["rollback.start"].run(step(store, "start"), {"location": hits["affected"][0], "launch": "record",
                                                   "triggered_at": "2026-04-10T09:00:00+00:00"})
    K["rollout.set"].run(step(store, "revert"), {"locations": ["riverside-ortho"], "status": "rolled_back",
                                                 "reason": hits["affected"][0]["reason"]})

    assert snapshot(store, exclude="riverside-ortho") == before  # nothing else changed
    state = repository.rollout(store)
    assert state["riverside-ortho"]["status"] == "rolled_back" and state["riverside-ortho"]["workflow"] == "previous"
    assert {k: v["status"] for k, v in state.items() if k != "riverside-ortho"} == {
        "lakeview-implant": "live", "suburban-west": "live", "downtown-metro": "planned"}
    # The rolled-back location's data remains accessible, unchanged.
    assert repository.load_observations(store, locations=["riverside-ortho"]).samples() == affected_before
    assert repository.open_rollbacks(store)["riverside-ortho"]["triggered_at"].startswith("2026-04-10T09:00")
    assert len(repository.probe_samples(store, "riverside-ortho")) == 1


def test_watch_scoped_to_other_waves_sees_nothing(store: Any) -> None:
    obs = simulate(load_scenario("examples/acme-dental/scenarios/pilot-outage.yaml"), LOCS)
    repository.save_samples(store, obs.samples(), "simulator")
    out = K["rollback.triggers"].run(step(store, "t"), {"locations": ["lakeview-implant", "suburban-west"],
                                                        "as_of": str(date(2026, 4, 10) + timedelta(days=0))})
    assert out["count"] == 0 and out["hits"] == []
