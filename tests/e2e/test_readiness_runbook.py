"""The readiness assessment runbook end to end on the example group, through Prefect."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS

pytestmark = pytest.mark.e2e


def test_readiness_assessment_runs_and_renders_the_brief(run_book: Any, golive_env: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    result = run_book(RUNBOOKS / "readiness-assessment.yaml", {"as_of": "2027-01-11"},
                      decisions={"approvals": {"approve-pilot": {"name": "Carmen Ortiz", "role": "COO"},
                                               "plan-override": {"name": "Carmen Ortiz", "role": "COO",
                                                                 "comment": "two regional trainers for wave 2"}}})
    assert result["state"] == "completed", result
    steps = {s["id"]: s for s in result["steps"]}
    assert steps["waves"]["outputs"]["pilot"] == ["lakeview-implant", "riverside-ortho", "harbor-point"]
    calendar = steps["calendar"]["outputs"]
    start, end = (date.fromisoformat(calendar[k]) for k in ("start", "end"))
    # weeks run Monday to Sunday, week 1 holds the start; the playbook gives 25 locations 16-20 weeks
    assert calendar["weeks"] == ((end - timedelta(days=end.weekday())) - (start - timedelta(days=start.weekday()))).days // 7 + 1
    assert 16 <= calendar["weeks"] <= 20
    assert steps["baseline"]["outputs"]["complete"] == 22
    md = next(Path(p) for p in result["reports"] if p.endswith(".md"))
    text = md.read_text(encoding="utf-8")
    assert "| Downtown Metro | central | 5 | 4 | 5 | 4 | 5 | 23 | 1 |" in text
    assert "| Rural Clinic | south | 2 | 4 | 2 | 3 | 3 | 14 | 3 |" in text
    assert "Pilot decision: **approve** by Carmen Ortiz (COO)" in text
    assert any(p.endswith(".docx") for p in result["reports"])
    assert (md.parent / "rollout-calendar.ics").is_file()
