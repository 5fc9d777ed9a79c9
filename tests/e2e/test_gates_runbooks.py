"""The gate and rollback runbooks end to end through Prefect on the example group: simulated
pilot metrics, the wave-1 gate (go, no-go, inconclusive with a decision), the rollback watch
starting a scoped rollback, and the rollback runbook with its deadline checks."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from golive.tasks.foundation.paths import RUNBOOKS
from golive.tasks.gates import repository
from golive.tasks.store import Store
from tests.e2e.conftest import steps_by_key

pytestmark = pytest.mark.e2e

PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
SCENARIOS = "examples/acme-dental/scenarios"
GATE_PARAMS = {"locations": PILOT, "pilot_start": "2026-03-30", "pilot_end": "2026-04-26",
               "baseline_start": "2026-03-02", "baseline_end": "2026-03-29"}


def simulate(run_book: Any, scenario: str) -> None:
    result = run_book(RUNBOOKS / "simulate-metrics.yaml", {"scenario": f"{SCENARIOS}/{scenario}.yaml", "locations": PILOT})
    assert result["state"] == "completed", result


def pdf_text(pdf: Path) -> tuple[str, int]:
    """The PDF's text as a reader sees it, and its page count (poppler's pdftotext and pdfinfo)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return text, int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def test_pilot_ok_is_go(run_book: Any, golive_env: Path, org: None, monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(run_book, "pilot-ok")
    monkeypatch.setenv("GOLIVE_PDF", "on")
    result = run_book(RUNBOOKS / "go-no-go-wave1.yaml", {**GATE_PARAMS, "next_wave_start": "2026-05-11"})
    assert result["state"] == "completed", result
    steps = steps_by_key(result)
    assert steps["gate"]["outputs"]["verdict"] == "go"
    assert steps["decide"]["state"] == "skipped"
    md = next(Path(p) for p in result["reports"] if p.endswith(".md"))
    assert "**Recommendation: GO: start Wave 2.**" in md.read_text(encoding="utf-8")
    assert md.name == "go-no-go-wave1-GO.md"
    text, pages = pdf_text(md.with_suffix(".pdf"))
    assert pages == 1, "the decision memo is one page"
    assert "Recommendation: GO: start Wave 2." in text and "Page 1 of 1" in text
    assert "criteria passed" not in text and "Lakeview Implant" in text or "3 locations" in text
    props = Document(str(md.with_suffix(".docx"))).core_properties
    assert props.author == "Acme Dental Partners AI Rollout Office" and props.title == "Wave 1 to Wave 2: GO" and props.created.year > 2020

    monkeypatch.setenv("GOLIVE_PDF", "off")  # the ROI PDFs are read in tests/integration/documents
    roi = run_book(RUNBOOKS / "roi-report.yaml", {
        "locations": PILOT, "period_start": "2026-03-30", "period_end": "2026-04-26", "baseline_start": "2026-03-02",
        "baseline_end": "2026-03-29", "next_wave_start": "2026-05-11"})
    assert roi["state"] == "completed", roi
    rsteps = steps_by_key(roi)
    text = next(Path(p) for p in rsteps["report"]["outputs"]["reports"] if p.endswith(".md")).read_text()
    assert re.search(r"\*\*(Payback in \d+\.\d months|No payback yet)", text), text
    assert "Lakeview Implant" in text and "lakeview-implant" not in text
    brief = next(Path(p) for p in rsteps["board-brief"]["outputs"]["reports"] if p.endswith(".md")).read_text()
    assert "## Top risks" in brief and "| Wave 2 go-live | 11 May 2026 |" in brief
    [outbox] = rsteps["deliver"]["outputs"]["deliveries"]  # the example group configures no channel
    assert outbox["channel"] == "outbox" and {a["name"] for a in outbox["attachments"]} == {
        "roi-report.docx", "board-brief.docx"}


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


def test_outage_is_no_go_and_the_watch_rolls_back_only_that_location(run_book: Any, golive_env: Path, org: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(run_book, "pilot-outage")
    monkeypatch.setenv("GOLIVE_PDF", "on")
    gate = run_book(RUNBOOKS / "go-no-go-wave1.yaml", {**GATE_PARAMS, "next_wave_start": "2026-05-11"})
    monkeypatch.setenv("GOLIVE_PDF", "off")
    steps = steps_by_key(gate)
    assert gate["state"] == "failed"
    assert steps["gate"]["outputs"]["verdict"] == "no-go" and steps["proceed"]["state"] == "failed"
    uptime = next(c for c in steps["gate"]["outputs"]["criteria"] if c["id"] == "uptime")
    assert uptime["failing"] == ["riverside-ortho"]
    memo = next(Path(p) for p in steps["evidence"]["outputs"]["reports"] if p.endswith(".pdf"))
    assert memo.name == "go-no-go-wave1-NO-GO.pdf"
    text, pages = pdf_text(memo)
    flat = " ".join(text.split())
    assert pages == 1 and "Recommendation: NO-GO: do not start Wave 2." in flat
    assert re.search(r"Riverside Orthodontics & Family measured \d+\.\d% over \d+ days of data \(needs above 99\.0%\)", flat), flat
    assert "Rollback trigger met: Yes: Riverside Orthodontics & Family" in flat
    assert "Re-review: 3 May 2026" in flat and "11 May 2026 holds only if the re-review passes" in flat
    assert "criteria passed" not in flat and "riverside-ortho" not in flat

    watch = run_book(RUNBOOKS / "rollback-watch.yaml", {"locations": PILOT, "as_of": "2026-04-10"})
    assert watch["state"] == "completed", watch
    ws = steps_by_key(watch)
    assert ws["triggers"]["outputs"]["locations"] == ["riverside-ortho"]
    started = ws["start-rollback[0]"]["outputs"]
    assert started["created"] and started["launch"]["mode"] == "record"

    # Triggered 3 h before this run starts, whatever today is: the 2-hour deadline is overdue by 1 h.
    triggered_at = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="seconds")
    rollback = run_book(RUNBOOKS / "rollback.yaml",
                        {"locations": ["riverside-ortho"], "reason": started["reason"], "triggered_at": triggered_at,
                         "as_of": "2026-04-10"},
                        decisions={"approvals": {"revised-timeline": {"name": "Raj Patel", "role": "CEO"}},
                                   "confirmations": {"within-24h": "all", "remediation": "all"}})
    assert rollback["state"] == "completed", rollback
    rs = steps_by_key(rollback)
    assert rs["deadline-2h"]["outputs"]["overdue"] is True
    assert rs["deadline-2h"]["outputs"]["escalated_to"] == ["COO", "VP of Ops"]
    incident = next(Path(p) for p in rollback["reports"] if p.endswith("rollback-incident.md")).read_text()
    assert "**Riverside Orthodontics & Family went back to the previous workflow" in incident
    assert "Late against the playbook's deadlines: Immediate steps (2 hours)" in incident
    due = datetime.fromisoformat(triggered_at) + timedelta(hours=2)
    assert f"| Immediate steps (2 hours) | {due.day} {due:%B %Y %H:%M} UTC |" in incident
    assert "approved by Raj Patel (CEO)" in incident
    from docx import Document

    cover = next(Path(p) for p in rollback["reports"] if p.endswith("rollback-incident.docx"))
    words = " ".join([p.text for p in Document(str(cover)).paragraphs]
                     + [c.text for t in Document(str(cover)).tables for row in t.rows for c in row.cells])
    assert "10 April 2026" in words  # dated on the plan: the data day the watch found the trigger on
    assert "| notify-central | outbox | sent |" in incident and "| communicate | outbox | sent |" in incident
    store = Store.open()
    try:
        state = repository.rollout(store)
        assert state == {"riverside-ortho": {"wave": None, "status": "rolled_back", "workflow": "previous",
                                             "reason": started["reason"]}}
        assert set(repository.open_rollbacks(store)) == {"riverside-ortho"}
    finally:
        store.dispose()

    # The weekly status reads the register the gate filled. The rollback trigger (days 9-11) is outside
    # the watch's last 14 days by 26 April, so the weekly check closes that entry; the gate's uptime
    # failure stays open until a gate passes.
    weekly = run_book(RUNBOOKS / "weekly-status.yaml", {"locations": PILOT, "as_of": "2026-04-26"})
    assert weekly["state"] == "completed", weekly
    md = next(Path(p) for p in weekly["reports"] if p.endswith("weekly-status.md")).read_text()
    assert any(p.endswith("cdo-clinical-pack.md") for p in weekly["reports"])  # the audience packs follow
    assert sum("regional-pack-" in p and p.endswith(".md") for p in weekly["reports"]) == 5  # one per region
    assert "**Programme status: RED. 1 of 3 live location(s) red, 1 open item(s), 0 overdue, 0 decision(s) needed.**" in md
    assert "| Riverside Orthodontics & Family | 1 | RED | 1 |" in md and "Marcus Greene (VP of IT)" in md
