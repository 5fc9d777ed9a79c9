"""`collect-daily-metrics` through Prefect against every source simulator, then a gate runbook
that reads the collected days: inconclusive, naming the day Open Dental had no data; and
`golive metrics status` showing it."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.tasks.foundation.paths import RUNBOOKS
from golive.tasks.gates.collect.sim.rig import start_rig
from golive.tasks.store import Store

pytestmark = pytest.mark.e2e
LOCS = ["loc-a", "loc-b"]
START = date(2026, 10, 1)
GAP = START + timedelta(days=1)

GATE = {
    "apiVersion": "golive/v1", "kind": "Runbook",
    "metadata": {"name": "collected-gate", "title": "Gate on collected metrics", "owner": "VP of IT"},
    "steps": [{"id": "gate", "title": "Case acceptance and tickets", "uses": "gate", "with": {
        "name": "collected-gate", "locations": LOCS, "as_of": str(START + timedelta(days=2)),
        "fail_on_no_go": False,
        "criteria": [
            {"id": "acceptance", "metric": "case_acceptance_pct", "test": "threshold", "op": ">=", "value": 0,
             "window": {"last_days": 3}},
            {"id": "tickets", "metric": "support_tickets", "test": "threshold", "op": ">=", "value": 0,
             "window": {"last_days": 3}},
        ]}}],
}


def steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in result["steps"]}


def test_collect_runbook_then_gate_is_inconclusive_for_the_missing_day(
        run_book: Any, golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open()
    rig = start_rig(golive_env / "sims", LOCS, START, 3, store, gap_days={("loc-b", GAP)})
    try:
        for k, v in rig.env().items():
            monkeypatch.setenv(k, v)
        result = run_book(RUNBOOKS / "collect-daily-metrics.yaml", {
            "sources": rig.sources(), "start": str(START), "end": str(START + timedelta(days=2)),
            "locations": LOCS, "live_only": False})
    finally:
        rig.stop()
    assert result["state"] == "completed", result
    out = steps(result)["collect"]["outputs"]
    assert out["days"] == 3 and out["errors"] == {}
    assert {(m["location"], m["day"]) for m in out["missing_keys"]} == {("loc-b", str(GAP))}
    assert all(v not in json.dumps(result) for v in rig.env().values())  # no secret in results

    book = golive_env / "collected-gate.yaml"
    book.write_text(yaml.safe_dump(GATE), encoding="utf-8")
    gate = run_book(book)
    assert gate["state"] == "completed", gate
    g = steps(gate)["gate"]["outputs"]
    status = {c["id"]: c["status"] for c in g["criteria"]}
    assert status == {"acceptance": "inconclusive", "tickets": "pass"}
    assert g["verdict"] == "inconclusive"

    cli = CliRunner().invoke(app, ["metrics", "status", "--json", "--location", "loc-b"], env=dict(os.environ))
    assert cli.exit_code == 0, cli.output
    rows = {r["metric"]: r for r in json.loads(cli.output)}
    assert rows["case_acceptance_pct"]["missing_days"] == [str(GAP)]
    assert rows["support_tickets"]["source"] == "zendesk" and rows["support_tickets"]["missing_days"] == []
    assert rows["uptime_pct"]["last_day"] == str(START + timedelta(days=2))
