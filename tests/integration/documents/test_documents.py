"""Stakeholder documents for a generated 50-location group, from real measurements: the metric
simulator writes the store, the gate and rollback-trigger kinds evaluate it, and `report.render`
frames, fits and converts the documents. Checked as their readers get them: PDF text (pdftotext),
page count (pdfinfo), table widths against the page, header rows, fields, core properties, and no
PHI canary anywhere (documents, properties, outbox messages)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from ruamel.yaml import YAML

from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS
from golive.tasks.gates import kinds as gate_kinds
from golive.tasks.planning.generator import generate_organization
from golive.tasks.planning.organization import Investment, load_organization
from golive.tasks.pms.simulator import CANARY_TOKEN
from golive.tasks.reports import pdf, register_kind, render

PERIOD = {"start": "2026-03-30", "end": "2026-04-26"}
BASELINE = {"start": "2026-03-02", "end": "2026-03-29"}
RUN_TIME = datetime(2026, 4, 27, 8, 30, tzinfo=UTC)


def ctx(org: Any, store: Any, out: Path, step: str, scope: dict[str, Any] | None = None) -> StepContext:
    return StepContext(run_id="r", run_key="docs-50", runbook="go-no-go-wave1", step_id=step, step_key=step, org=org,
                       store=store, out_dir=out, run_started=RUN_TIME, scope=scope or {})


def wave1_criteria() -> list[dict[str, Any]]:
    """The go-no-go-wave1 runbook's own six criteria (read from the runbook, not copied)."""
    book = YAML(typ="safe").load((RUNBOOKS / "go-no-go-wave1.yaml").read_text())
    return list(book["steps"][0]["with"]["criteria"])


def measured_group(tmp_path: Path, store: Any, n: int, n_failing: int) -> tuple[Any, dict[str, Any], list[str]]:
    """A generated `n`-location group with simulated pilot metrics (outages at `n_failing` locations), gated."""
    org = dataclasses.replace(generate_organization(n, seed=3),
                              investment=Investment(licence_per_location_month=900, hardware=250000,
                                                    implementation=80000, training_hours=900, training_hour_cost=50,
                                                    planned_payback_months=12))
    ids = [loc.id for loc in org.locations]
    scenario = (Path(__file__).parents[3] / "examples/acme-dental/scenarios/pilot-ok.yaml").read_text()
    if n_failing:
        scenario += "outages:\n" + "".join(f'  - {{location: "#{i + 1}", day: 9, days: 3, uptime_pct: 80}}\n'
                                           for i in range(n_failing))
    (tmp_path / "scenario.yaml").write_text(scenario)
    gate_kinds.run_simulate(ctx(org, store, tmp_path, "simulate"), {"scenario": str(tmp_path / "scenario.yaml"),
                                                                    "locations": ids})
    gate = gate_kinds.run_gate(ctx(org, store, tmp_path, "gate"), {
        "name": "go-no-go-wave1", "wave": 1, "locations": ids, "as_of": "", "decide_role": "COO",
        "fail_on_no_go": False, "periods": {"pilot": PERIOD, "baseline": BASELINE}, "criteria": wave1_criteria()})
    book = YAML(typ="safe").load((RUNBOOKS / "roi-report.yaml").read_text())
    roi = gate_kinds.run_gate(ctx(org, store, tmp_path, "measure"), {
        "name": "roi-wave1", "wave": 1, "locations": ids, "fail_on_no_go": False,
        "periods": {"current": PERIOD, "baseline": BASELINE}, "criteria": book["steps"][0]["with"]["criteria"]})
    triggers = gate_kinds.run_triggers(ctx(org, store, tmp_path, "rollback-check"), {
        "locations": ids, "as_of": gate["as_of"], "skip_open": False, "window_days": 90})
    return org, {"steps": {"gate": {"outputs": gate}, "rollback-check": {"outputs": triggers},
                                "measure": {"outputs": roi}}}, ids


def memo_params() -> dict[str, Any]:
    return {"template": "go-no-go-memo", "assemble": "go-no-go", "name": "go-no-go-wave1", "title": "Wave 1 to Wave 2",
            "audience": "COO, VP of Ops", "formats": ["md", "docx"],
            "context": {"gate": "gate", "rollback": "rollback-check", "subject": "Wave 2",
                        "next_wave_start": "2026-05-04", "re_review_days": 7}}


def roi_params(template: str) -> dict[str, Any]:
    return {"template": template, "assemble": "roi", "name": template, "title": template.replace("-", " ").title(),
            "audience": "CFO", "formats": ["md", "docx"],
            "context": {"measure": "measure", "wave_label": "Wave 1", "next_wave_start": "2026-05-04",
                        "risks": ["Bandwidth upgrades", "Champion turnover", "Case acceptance"]}}


def check_frame(docx: Path, author: str) -> None:
    """Tables within the text width with repeating headers; PAGE/NUMPAGES fields; true properties."""
    doc = Document(str(docx))
    section = doc.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    for table in doc.tables:
        grid = [int(c.get(qn("w:w"))) * 635 for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(grid) <= text_width, f"{docx.name}: table {sum(grid)} EMU wider than the text {text_width}"
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    footer = section.footer._element.xml
    assert " PAGE " in footer and " NUMPAGES " in footer
    props = doc.core_properties
    assert props.author == author and props.created == RUN_TIME and props.identifier == "docs-50"
    assert props.title and props.title != "python-docx"
    with zipfile.ZipFile(docx) as z:
        for name in z.namelist():
            assert CANARY_TOKEN.encode() not in z.read(name), f"{docx.name}:{name} carries a PHI canary"


def pdf_text(path: Path, first: int | None = None) -> tuple[str, int]:
    args = ["pdftotext", "-layout", *(["-f", str(first), "-l", str(first)] if first else []), str(path), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split()), int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize(("n", "failing"), [
    (12, 6),  # the default subset: every document, every check but the multi-page ones
    pytest.param(50, 12, marks=pytest.mark.slow),  # the 50-location group
])
def test_generated_group_no_go_memo_roi_brief_and_weekly_status(tmp_path: Path, sqlite_store: Any, n: int,
                                                                failing: int) -> None:
    org, scope, ids = measured_group(tmp_path, sqlite_store, n, failing)
    assert scope["steps"]["gate"]["outputs"]["verdict"] == "no-go"
    out = tmp_path / "out"
    written = [render.run(ctx(org, sqlite_store, out, "memo", scope), memo_params())]
    written += [render.run(ctx(org, sqlite_store, out, t, scope), roi_params(t)) for t in ("roi-report", "board-brief")]
    docs = [Path(p) for w in written for p in w["reports"] if p.endswith(".docx")]
    assert [d.name for d in docs] == ["go-no-go-wave1-NO-GO.docx", "roi-report.docx", "board-brief.docx"]
    for d in docs:
        check_frame(d, "Rollout Office")
    # the ROI report's charts: change per location, weekly trend from the store, cost against value
    assert len(Document(str(docs[1])).inline_shapes) == 3
    assert {p.name for p in (out / "docs-50").glob("roi-*.png")} == {"roi-acceptance-change.png", "roi-trend.png",
                                                                     "roi-payback.png"}
    # The register takes the gate's failures and the rollback triggers; the weekly status reads it.
    counts = register_kind.run(ctx(org, sqlite_store, out, "register", scope), {
        "gate": "gate", "name": "go-no-go-wave1", "rollback": "rollback-check", "wave": 1})
    assert counts["opened"] == counts["open"] == 2 * failing  # uptime failures + rollback triggers
    weekly = render.run(ctx(org, sqlite_store, out, "weekly", scope), {
        "template": "weekly-status", "assemble": "weekly", "name": "weekly-status", "title": "Weekly programme status",
        "formats": ["md", "docx"], "context": {"locations": ids, "wave": 1, "as_of": "2026-05-04"}})
    md = Path(weekly["reports"][0]).read_text()
    assert f"**Programme status: RED. {failing} of {n} live location(s) red, {2 * failing} open item(s), " \
           f"{2 * failing} overdue" in md
    check_frame(Path(weekly["reports"][1]), "Rollout Office")
    packs = acme_packs(tmp_path / "acme")  # the example group's go-live pack and provider one-pager
    memo_pdf, roi_pdf, brief_pdf, weekly_pdf, pack_pdf, one_pdf = pdf.to_pdf(
        [*docs, Path(weekly["reports"][1]), *packs])  # one LibreOffice start for all six
    check_packs(pack_pdf, one_pdf)
    assert "Programme status: RED" in pdf_text(weekly_pdf)[0]

    text, pages = pdf_text(memo_pdf)
    assert pages == 1 and "Recommendation: NO-GO: do not start Wave 2." in text
    assert f"and {failing - 4} more failing measurements" in text and "Rollback trigger met: Yes:" in text
    assert "criteria passed" not in text and ids[0] not in text  # names, not ids
    assert org.locations[0].name in text

    text, pages = pdf_text(roi_pdf)
    assert re.search(r"Payback in \d+\.\d months|No payback yet", text)
    if n == 50:
        assert pages >= 2, "50 locations take more than a page"
        page2, _ = pdf_text(roi_pdf, first=2)
        assert "Location Case acceptance" in page2  # the header row repeats on the next page

    text, pages = pdf_text(brief_pdf)
    assert pages == 1 and "Top risks" in text and "4 May 2026" in text

    # Passing again closes the gate's issues (a re-run over data without the outages).
    healthy = {**scope["steps"]["gate"]["outputs"], "criteria": [
        {**c, "results": [{**r, "status": "pass"} for r in c["results"]]} for c in scope["steps"]["gate"]["outputs"]["criteria"]]}
    again = register_kind.run(ctx(org, sqlite_store, out, "register2", {"steps": {"gate": {"outputs": healthy}}}),
                              {"gate": "gate", "name": "go-no-go-wave1"})
    assert again["closed"] == failing and again["open"] == failing

    delivered = notify.run(ctx(org, sqlite_store, out, "deliver"), {
        "to": ["CFO", "CEO"], "message": "The ROI report is attached.", "attach": [str(roi_pdf), str(brief_pdf)]})
    [outbox] = delivered["deliveries"]
    assert CANARY_TOKEN not in Path(outbox["path"]).read_text(errors="replace")


def test_go_memo_for_the_example_group_is_distinct_from_no_go(tmp_path: Path, sqlite_store: Any) -> None:
    acme = load_organization(DEFAULT_ORG)
    pilot = ["lakeview-implant", "riverside-ortho", "harbor-point"]
    (tmp_path / "ok.yaml").write_text((Path(__file__).parents[3] / "examples/acme-dental/scenarios/pilot-ok.yaml").read_text())
    gate_kinds.run_simulate(ctx(acme, sqlite_store, tmp_path, "simulate"), {"scenario": str(tmp_path / "ok.yaml"),
                                                                           "locations": pilot})
    gate = gate_kinds.run_gate(ctx(acme, sqlite_store, tmp_path, "gate"), {
        "name": "go-no-go-wave1", "wave": 1, "locations": pilot, "as_of": "", "decide_role": "COO",
        "fail_on_no_go": False, "periods": {"pilot": PERIOD, "baseline": BASELINE}, "criteria": wave1_criteria()})
    result = render.run(ctx(acme, sqlite_store, tmp_path / "out", "memo", {"steps": {"gate": {"outputs": gate}}}),
                        memo_params())
    md, docx = (Path(p) for p in result["reports"])
    assert docx.name == "go-no-go-wave1-GO.docx" and result["title"] == "Wave 1 to Wave 2: GO"
    text = md.read_text()
    assert "**Recommendation: GO: start Wave 2.**" in text and "Not checked in this run" in text
    assert "at all 3 locations" in text and "lakeview-implant" not in text
    check_frame(docx, "Acme Dental Partners AI Rollout Office")


def test_a_report_without_investment_is_a_clear_error(tmp_path: Path, sqlite_store: Any) -> None:
    from golive.tasks.foundation.errors import StepFailed

    acme = dataclasses.replace(load_organization(DEFAULT_ORG), investment=None)
    scope = {"steps": {"measure": {"outputs": {"criteria": [], "as_of": "2026-04-26"}}}}
    with pytest.raises(StepFailed, match="no `investment:` block"):
        render.run(ctx(acme, sqlite_store, tmp_path, "roi", scope), roi_params("roi-report"))



def acme_packs(tmp_path: Path) -> list[Path]:
    """The go-live pack for one Acme location and the provider one-pager (DOCX, framed)."""
    acme = load_organization(DEFAULT_ORG)
    context = {"start_date": "2026-03-16", "wave": 1,
               "schedule": {"champion_training": 4, "staff_training": 9, "parallel_run": 11, "go_live": 14}}
    pack_ctx = dataclasses.replace(ctx(acme, None, tmp_path, "go-live-packs[1]"), item="riverside-ortho")
    pack = render.run(pack_ctx, {"template": "go-live-pack", "assemble": "go-live-pack", "name": "go-live-pack",
                                 "audience": "Office manager", "formats": ["md", "docx"], "context": context})
    one = render.run(ctx(acme, None, tmp_path, "provider-one-pager"), {
        "template": "provider-one-pager", "assemble": "provider-one-pager", "name": "provider-one-pager",
        "title": "The AI platform in your practice", "audience": "Providers", "formats": ["md", "docx"],
        "context": context})
    docs = [Path(pack["reports"][1]), Path(one["reports"][1])]
    assert docs[0].name == "go-live-pack-riverside-ortho.docx"
    for d in docs:
        check_frame(d, "Acme Dental Partners AI Rollout Office")
    return docs


def check_packs(pack_pdf: Path, one_pdf: Path) -> None:
    text, pages = pdf_text(pack_pdf)
    assert pages == 1 and "Riverside Orthodontics & Family goes live on 30 March 2026" in text
    assert "Tasha Reed (Office Manager)" in text and "+1 800 555 0199" in text  # whom to call, with the desk's line
    text, pages = pdf_text(one_pdf)
    assert pages == 1 and "From 30 March 2026, AI analysis" in text and "85% confidence" in text
