"""Run keys of deployment runs (issue 18): the schedule slot or submit time is part of the key
unless the user gives one; a retry of the same flow run keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from golive.flows.engine.entry import run_key_for
from golive.flows.engine.scope import default_run_key, slot_run_key

PARAMS = {"locations": ["lakeview", "harbor"], "pilot_start": "2026-03-30"}
SLOT = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)  # 07:00 America/Chicago, the gate's cron


def test_same_parameters_on_another_day_are_another_run() -> None:
    today, tomorrow = slot_run_key("go-no-go-wave1", PARAMS, SLOT), slot_run_key(
        "go-no-go-wave1", PARAMS, SLOT + timedelta(days=1))
    assert today != tomorrow
    assert today == f"{default_run_key('go-no-go-wave1', PARAMS)}-20260402T120000Z"


def test_the_slot_is_read_in_utc() -> None:
    chicago = SLOT.astimezone(timezone(timedelta(hours=-5)))
    assert slot_run_key("go-no-go-wave1", PARAMS, chicago) == slot_run_key("go-no-go-wave1", PARAMS, SLOT)


def test_in_a_deployment_the_flow_runs_expected_start_is_the_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    # A retry of a flow run keeps its expected start time (Prefect's SetExpectedStartTime rule sets
    # it once), so it keeps its key. prefect.runtime's own attributes stand in for a live run here.
    from prefect.runtime import deployment, flow_run

    monkeypatch.setattr(deployment, "id", "3c9e5b3e-0000-4000-8000-000000000001", raising=False)
    monkeypatch.setattr(flow_run, "scheduled_start_time", SLOT, raising=False)
    assert run_key_for("go-no-go-wave1", PARAMS) == slot_run_key("go-no-go-wave1", PARAMS, SLOT)


def test_outside_a_deployment_the_parameters_are_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT__RUNTIME__DEPLOYMENT__ID", raising=False)
    assert run_key_for("go-no-go-wave1", PARAMS) == default_run_key("go-no-go-wave1", PARAMS)
