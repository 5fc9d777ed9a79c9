"""One timeline: the demo's runs up to its first ROI report, in the demo's order and with its
parameters, decisions and simulators (pre-implementation, readiness assessment, configuration
drift, security and HIPAA verification, integration validation, the pilot's collected metrics, wave
1 go-live, its gate, the ROI report), through Prefect, while the wall clock is far from the plan's
calendar. Every document they write (12: briefs, status, validation, go-live packs, one-pager,
debrief, memo, ROI report, board brief) is converted to PDF by LibreOffice and read with pdftotext
as its reader gets it: each cover date lies within the stored plan's calendar (the
pre-implementation brief on the rollout's first day, not today), the checklist due dates are
business days in their phase, and only the DOCX `created` property keeps the real run time."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS
from golive.tasks.foundation.yamlsafe import load_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
COVER_DATE = re.compile(rf"\bDate:?\s+(\d{{1,2}}) ({MONTHS}) (\d{{4}})")
ISO = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
UNTIL = "roi-report"  # the demo's runs up to its first ROI report (the rest replays the same weeks)


def first_page(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def whole(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def cover_date(pdf: Path) -> date:
    m = COVER_DATE.search(first_page(pdf))
    assert m, f"{pdf.name}: no cover date on page 1"
    return datetime.strptime(f"{m[1]} {m[2]} {m[3]}", "%d %B %Y").date()


def test_the_demos_documents_follow_the_plans_calendar(run_book: Any, golive_env: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from golive.flows.cli import demo, demo_compliance, demo_dicom, demo_metrics, demo_pms
    from golive.tasks.program import repository
    from golive.tasks.store import Store

    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    monkeypatch.setenv("GOLIVE_PDF", "on")
    found: dict[str, Any] = {}
    pms = demo_pms.start_simulator(found)
    compliance = demo_compliance.start_simulators(found)
    sources = demo_metrics.start(found)
    real_day = date.today()
    written: dict[str, list[Path]] = {}
    try:
        demo_dicom.prepare(found)
        for entry in demo.DEMO:
            if entry.before is not None:
                entry.before(found)
            given = dict(load_yaml(entry.inputs)) if entry.inputs else {}
            result = run_book(RUNBOOKS / f"{entry.runbook}.yaml", demo._resolve(entry.params, found), decisions=given,  # noqa: SLF001
                              run_key=f"timeline-{entry.run_key or entry.runbook}")
            assert result["state"] == entry.expect, (entry.runbook, result["state"])
            demo._harvest(result, found)  # noqa: SLF001
            written.setdefault(entry.runbook, []).extend(Path(p) for p in result["reports"] if p.endswith(".pdf"))
            if entry.runbook == UNTIL:
                break
    finally:
        pms.stop()
        compliance.stop()
        sources.stop()
    store = Store.open()
    try:
        phases = repository.phases(store)
    finally:
        store.dispose()
    plan_start = min(p.starts_on for p in phases.values())
    plan_end = max(p.ends_on for p in phases.values())
    assert plan_start == date.fromisoformat(demo.ROLLOUT_START)
    if plan_start <= real_day <= plan_end:
        pytest.skip("the wall clock is inside the demo's plan: a run's own day and the plan's cannot be told apart")

    expected = {"pre-implementation", "readiness-assessment", "security-compliance", "integration-validation",
                "wave-go-live", "go-no-go-wave1", "roi-report"}
    assert expected <= {k for k, v in written.items() if v}, written
    dates = {}
    for runbook, pdfs in written.items():
        for pdf in pdfs:
            on = cover_date(pdf)
            dates[f"{runbook}/{pdf.name}"] = on
            assert plan_start <= on <= plan_end, f"{runbook}/{pdf.name} dated {on}, off the plan {plan_start}..{plan_end}"
            created = Document(str(pdf.with_suffix(".docx"))).core_properties.created
            assert created is not None and created.date() in (real_day, real_day.fromordinal(real_day.toordinal() - 1))

    # the pre-implementation brief: the rollout's first day, its due dates business days in its phase
    [brief] = written["pre-implementation"]
    assert cover_date(brief) == plan_start
    dues = [date.fromisoformat(d) for d in ISO.findall(whole(brief))]
    assert dues, "the brief lists its checklists' due dates"
    pre = phases["pre-implementation"]
    assert all(pre.starts_on <= d <= pre.ends_on and d.weekday() < 5 for d in dues), dues
    # the readiness brief is dated from the rollout start it plans; security status on the same phase
    assert all(on == plan_start for name, on in dates.items() if name.startswith(("readiness", "security")))
    # the documents a person reads name locations, not ids (an id inside a file path stays a path)
    from golive.tasks.planning.organization import load_organization

    ids = [loc.id for loc in load_organization(DEFAULT_ORG).locations]
    raw = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, ids)) + r")(?![\w/-])")
    for runbook in ("security-compliance", "integration-validation", "wave-go-live", "go-no-go-wave1"):
        for pdf in written[runbook]:
            found = raw.findall(" ".join(whole(pdf).split()))
            assert not found, f"{runbook}/{pdf.name} shows location ids: {sorted(set(found))}"
    # integration validation: on its location's wave, or the plan's first day (the pilot's prerequisite)
    [validation] = [on for name, on in dates.items() if name.startswith("integration-validation")]
    waves = [p for p in phases.values() if p.wave is not None]
    assert validation in {p.starts_on for p in waves} | {plan_start}, (validation, waves)
