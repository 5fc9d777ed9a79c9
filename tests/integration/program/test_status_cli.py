"""`golive status` reads the board from the store the runs wrote (here: written by the kinds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.tasks.context import Approval, StepContext
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import load_organization
from golive.tasks.program.kinds import KINDS
from golive.tasks.store import Store

pytestmark = pytest.mark.integration
K = {k.name: k.run for k in KINDS}


def test_status_shows_phase_wave_overrides_and_rag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "k")
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    org = load_organization(DEFAULT_ORG)
    store = Store.open()
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    c = StepContext(run_id="r", run_key="k", runbook="wave-go-live", step_id="s", step_key="s", store=store, org=org)
    blocked = K["program.check"](c, {"locations": ["downtown-metro"], "to": "live", "wave": 2})["blocked"]
    c.human_input = Approval("approve", "Carmen Ortiz", "COO", "validated on the vendor's staging tenant")
    K["program.override"](c, {"blocked": blocked, "approvers": ["COO"]})
    for to in ("scheduled", "configuring", "training", "parallel_run", "live"):
        K["program.transition"](c, {"locations": ["downtown-metro"], "to": to, "wave": 2, "on": "2026-06-08"})
    K["program.transition"](c, {"locations": ["bayview"], "to": "deferred", "reason": "tier 5",
                                "remediation": [{"factor": "it", "action": "hire IT support", "owner": "VP of IT",
                                                 "due": "2026-01-05"}]})
    store.dispose()
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    b = json.loads(result.output)
    row = {r["location"]: r for r in b["locations"]}
    assert row["downtown-metro"]["phase"] == "live" and row["downtown-metro"]["go_live_on"] == "2026-06-08"
    assert row["bayview"]["phase"] == "deferred" and row["bayview"]["overdue"] == ["hire IT support (due 2026-01-05, VP of IT)"]
    assert b["waves"] == [{"wave": 2, "locations": 1, "live": 1, "progress_pct": 100.0, "last_gate": None, "rag": "amber"}]
    assert {o["guard"] for o in b["overrides"]} == {"previous-wave-go", "integration-validated"}
    text = CliRunner().invoke(app, ["status"])
    assert text.exit_code == 0 and "validated on the vendor's staging tenant" in text.output
    bad = CliRunner().invoke(app, ["status", "--org", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
