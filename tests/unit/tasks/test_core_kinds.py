from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from golive.flows.engine.expressions import evaluate
from golive.tasks.context import Approval, Confirmation, StepContext
from golive.tasks.core import approval, checklist, expect, notify
from golive.tasks.foundation.errors import ApprovalRejected, InputRequired, StepFailed
from golive.tasks.reports import render


def ctx(**kw: Any) -> StepContext:
    scope = kw.pop("scope", {"params": {"n": 2}})
    audit: list[tuple[str, Any]] = []
    c = StepContext(run_id="r", run_key="k", runbook="b", step_id="s", step_key="s", scope=scope,
                    evaluate=lambda e: evaluate(e, scope), audit=lambda ev, d: audit.append((ev, d)), **kw)
    c.audited = audit  # type: ignore[attr-defined]
    return c


def test_expect() -> None:
    assert expect.run(ctx(), {"that": "params.n == 2"}) == {"passed": True}
    with pytest.raises(StepFailed, match="n too small"):
        expect.run(ctx(), {"that": "params.n > 5", "message": "n too small"})


def test_checklist_states_and_due_dates() -> None:
    params = {"items": [{"id": "a", "text": "A", "check": "params.n > 1"},
                        {"id": "b", "text": "B", "due": "week 1 day 3", "owner": "IT"}]}
    request = checklist.request_input(params, "s")
    assert request is not None and request.items == (("b", "B"),)
    c = ctx(human_input=Confirmation(frozenset({"b"}), name="Ann"),
            run_started=datetime(2026, 12, 7, tzinfo=UTC))
    out = checklist.run(c, params)
    assert [i["state"] for i in out["items"]] == ["passed", "confirmed"]
    assert out["items"][1]["due_date"] == "2026-12-09"
    with pytest.raises(StepFailed, match="b"):
        checklist.run(ctx(), params)


def test_approval_rules() -> None:
    params = {"approvers": ["CDO"], "question": "ok?"}
    with pytest.raises(InputRequired):
        approval.run(ctx(), params)
    with pytest.raises(ApprovalRejected, match="may not decide"):
        approval.run(ctx(human_input=Approval("approve", "X", "CFO")), params)
    with pytest.raises(ApprovalRejected, match="rejected"):
        approval.run(ctx(human_input=Approval("reject", "X", "CDO", "no")), params)
    c = ctx(human_input=Approval("approve", "X", "cdo"))
    assert approval.run(c, params)["approver"] == "X"
    assert c.audited[-1][0] == "approval.decided"  # type: ignore[attr-defined]


def test_notify_without_a_channel_writes_the_outbox(tmp_path: Path) -> None:
    c = ctx(out_dir=tmp_path)
    out = notify.run(c, {"to": ["CEO"], "message": "hello"})
    assert (out["to"], out["recipients"], out["message"]) == (["CEO"], [], "hello")
    [delivery] = out["deliveries"]
    assert delivery["channel"] == "outbox" and Path(delivery["path"]).parent == tmp_path / "outbox" / c.run_key
    assert "hello" in Path(delivery["path"]).read_text()
    event, data = c.audited[-1]  # type: ignore[attr-defined]
    assert event == "notify" and data["deliveries"][0]["channel"] == "outbox"


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A template folder of the test's own that `report.render` reads instead of templates/."""
    folder = tmp_path / "templates"
    folder.mkdir()
    original = render.render_markdown
    monkeypatch.setattr(render, "render_markdown", lambda name, values: original(name, values, folder))
    return folder


def test_report_render_writes_markdown_and_docx(tmp_path: Path, templates: Path) -> None:
    from docx import Document

    (templates / "t.md.j2").write_text("# {{ title }}\n\n| a | b |\n|---|---|\n| {{ params.n }} | **x** |\n\n- one\n- two\n")
    c = ctx(out_dir=tmp_path / "out")
    out = render.run(c, {"template": "t", "title": "Brief", "formats": ["md", "docx"]})
    md, docx = map(Path, out["reports"])
    assert md.read_text().startswith("# Brief")
    doc = Document(str(docx))
    assert doc.paragraphs[0].text == "Brief"
    assert doc.tables[0].cell(1, 0).text == "2"
    assert [p.text for p in doc.paragraphs if p.style.name == "List Bullet"] == ["one", "two"]


def test_report_render_missing_template_is_a_step_failure(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="no report template"):
        render.run(ctx(out_dir=tmp_path), {"template": "does-not-exist"})


def test_charts_are_embedded_in_the_docx(tmp_path: Path, templates: Path) -> None:
    from docx import Document

    from golive.tasks.reports import charts

    (templates / "c.md.j2").write_text("# Scores\n\n![scores](scores.png)\n")
    c = ctx(out_dir=tmp_path / "out")
    png = charts.horizontal_bars(tmp_path / "out" / "k" / "scores.png", ["a", "b"], [21.0, 14.0], title="t",
                                 xlabel="x", marks=[(16, "Tier 2")])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    docx = Path(render.run(c, {"template": "c", "formats": ["md", "docx"]})["reports"][1])
    assert len(Document(str(docx)).inline_shapes) == 1
