"""The gate and rollback runbooks end to end through Prefect on the example group: simulated
pilot metrics, the wave-1 gate (go, no-go, inconclusive with a decision), the rollback watch
starting a scoped rollback, and the rollback runbook with its deadline checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS
from golive.tasks.gates import repository
from golive.tasks.store import Store

pytestmark = pytest.mark.e2e

PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
SCENARIOS = "examples/acme-dental/scenarios"
GATE_PARAMS = {"locations": PILOT, "pilot_start": "2026-03-30", "pilot_end": "2026-04-26",
               "baseline_start": "2026-03-02", "baseline_end": "2026-03-29"}


def steps_by_key(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in result["steps"]}


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))


def simulate(run_book: Any, scenario: str) -> None:
    result = run_book(RUNBOOKS / "simulate-metrics.yaml", {"scenario": f"{SCENARIOS}/{scenario}.yaml", "locations": PILOT})
    assert result["state"] == "completed", result


def test_pilot_ok_is_go(run_book: Any, golive_env: Path, org: None) -> None:
    simulate(run_book, "pilot-ok")
    result = run_book(RUNBOOKS / "go-no-go-wave1.yaml", GATE_PARAMS)
    assert result["state"] == "completed", result
    steps = steps_by_key(result)
    assert steps["gate"]["outputs"]["verdict"] == "go"
    assert steps["decide"]["state"] == "skipped"
    md = next(Path(p) for p in result["reports"] if p.endswith(".md"))
    assert "**Recommendation: GO: start Wave 2.**" in md.read_text(encoding="utf-8")
    assert md.name == "go-no-go-wave1-GO.md"


def test_too_little_data_asks_the_named_role(run_book: Any, golive_env: Path, org: None) -> None:
    simulate(run_book, "pilot-short")
    params = {**GATE_PARAMS, "pilot_end": "2026-04-08"}
    approved = run_book(RUNBOOKS / "go-no-go-wave1.yaml", params,
                        decisions={"approvals": {"decide": {"name": "Carmen Ortiz", "role": "COO"}}})
    assert approved["state"] == "completed", approved
    steps = steps_by_key(approved)
    assert steps["gate"]["outputs"]["verdict"] == "inconclusive"
    assert steps["decide"]["outputs"]["approver"] == "Carmen Ortiz"
    inconclusive = {c["id"] for c in steps["gate"]["outputs"]["criteria"] if c["status"] == "inconclusive"}
    assert "uptime" in inconclusive  # 10 days of data, 14 needed: never a silent pass


def test_outage_is_no_go_and_the_watch_rolls_back_only_that_location(run_book: Any, golive_env: Path, org: None) -> None:
    simulate(run_book, "pilot-outage")
    gate = run_book(RUNBOOKS / "go-no-go-wave1.yaml", GATE_PARAMS)
    steps = steps_by_key(gate)
    assert gate["state"] == "failed"
    assert steps["gate"]["outputs"]["verdict"] == "no-go" and steps["proceed"]["state"] == "failed"
    uptime = next(c for c in steps["gate"]["outputs"]["criteria"] if c["id"] == "uptime")
    assert uptime["failing"] == ["riverside-ortho"]

    watch = run_book(RUNBOOKS / "rollback-watch.yaml", {"locations": PILOT, "as_of": "2026-04-10"})
    assert watch["state"] == "completed", watch
    ws = steps_by_key(watch)
    assert ws["triggers"]["outputs"]["locations"] == ["riverside-ortho"]
    started = ws["start-rollback[0]"]["outputs"]
    assert started["created"] and started["launch"]["mode"] == "record"

    rollback = run_book(RUNBOOKS / "rollback.yaml",
                        {"locations": ["riverside-ortho"], "reason": started["reason"], "triggered_at": "2026-04-10T09:00:00+00:00"},
                        decisions={"approvals": {"revised-timeline": {"name": "Raj Patel", "role": "CEO"}},
                                   "confirmations": {"within-24h": "all", "remediation": "all"}})
    assert rollback["state"] == "completed", rollback
    rs = steps_by_key(rollback)
    assert rs["deadline-2h"]["outputs"]["overdue"] is True  # this rehearsal runs long after the trigger
    assert rs["deadline-2h"]["outputs"]["escalated_to"] == ["COO", "VP of Ops"]
    store = Store.open()
    try:
        state = repository.rollout(store)
        assert state == {"riverside-ortho": {"wave": None, "status": "rolled_back", "workflow": "previous",
                                             "reason": started["reason"]}}
        assert set(repository.open_rollbacks(store)) == {"riverside-ortho"}
    finally:
        store.dispose()
