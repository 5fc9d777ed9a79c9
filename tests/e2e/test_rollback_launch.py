"""The rollback launch is exactly once against a real Prefect server: the open rollback row is the
intent and the launch carries the rollback's id as Prefect's idempotency key.

A kill between committing the open row and starting the rollback deployment is stood in for by
opening the row first (as the killed attempt did) and then running the kind as the resume does:
the deployment run is started once, and every later launch for that open rollback (another resume,
the next hourly watch) returns the same flow run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.gates import repository
from golive.tasks.gates.kinds import KINDS

pytestmark = pytest.mark.e2e

START = {k.name: k for k in KINDS}["rollback.start"]


def _ctx(store: Any, audit: list[tuple[str, Any]]) -> StepContext:
    return StepContext(run_id="watch-run", run_key="watch-key", runbook="rollback-watch", step_id="start",
                       step_key="start[b]", store=store, artifacts=NullArtifacts(),
                       audit=lambda e, d: audit.append((e, dict(d))))


def _rollback_deployment() -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("rollback")
        return client.create_deployment(flow_id=flow_id, name="rollback")


def _runs_of(deployment_id: Any) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))


def test_a_launch_killed_after_the_open_row_starts_the_rollback_once(prefect_server: None, sqlite_store: Any) -> None:
    deployment_id = _rollback_deployment()
    at = datetime(2026, 4, 10, tzinfo=UTC)
    # The killed attempt: the open row committed, the deployment never started.
    rollback_id, created = repository.open_rollback(sqlite_store, location="b", reason="uptime", triggers=[],
                                                    triggered_at=at, run_id="watch-run")
    assert created and _runs_of(deployment_id) == []

    audit: list[tuple[str, Any]] = []
    params = {"location": "b", "reason": "uptime", "triggered_at": at.isoformat(), "launch": "deployment"}
    resumed = START.run(_ctx(sqlite_store, audit), params)
    assert not resumed["created"] and resumed["rollback_id"] == rollback_id
    assert resumed["launch"]["mode"] == "deployment" and resumed["launch"]["flow_run_id"]
    runs = _runs_of(deployment_id)
    assert [str(r.id) for r in runs] == [resumed["launch"]["flow_run_id"]]
    assert runs[0].parameters["locations"] == ["b"]

    # A second resume, or the next hourly watch while the rollback is open: the same flow run.
    again = START.run(_ctx(sqlite_store, audit), params)
    assert again["launch"]["flow_run_id"] == resumed["launch"]["flow_run_id"]
    assert len(_runs_of(deployment_id)) == 1
