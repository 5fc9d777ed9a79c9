"""Integration-validation evidence and its report land under out/<run key>/<location>/: two
locations' runs never share a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.imaging.kinds import _evidence_dir
from golive.tasks.reports.render import run as render


def ctx(tmp_path: Path, location: str | None, run_key: str = "integration-validation-abc") -> StepContext:
    params = {"location": location} if location else {}
    scope = {"params": params, "run": {"key": run_key, "started": "2026-06-01T09:00:00+00:00", "day": "2026-06-01"},
             "steps": {"pms-auth": {"state": "completed", "outputs": {"passed": True}},
                       "cbct-send": {"state": "failed", "outputs": {}}}}
    return StepContext(run_id="r", run_key=run_key, runbook="integration-validation", step_id="s", step_key="s",
                       params=params, out_dir=tmp_path, scope=scope)


def test_each_location_gets_its_own_evidence_folder(tmp_path: Path) -> None:
    a = _evidence_dir(ctx(tmp_path, "lakeview-implant", "iv-1"))
    b = _evidence_dir(ctx(tmp_path, "riverside-ortho", "iv-2"))
    assert a == tmp_path / "iv-1" / "lakeview-implant" and b == tmp_path / "iv-2" / "riverside-ortho"
    assert _evidence_dir(ctx(tmp_path, "../../etc")) == tmp_path / "integration-validation-abc" / "etc"
    assert _evidence_dir(ctx(tmp_path, None)) == tmp_path  # not a per-location run: as before


def test_the_validation_report_lands_in_the_location_folder(tmp_path: Path) -> None:
    out = render(ctx(tmp_path, "lakeview-implant"), {"template": "integration-validation", "name": "integration-validation",
                                                     "folder": "lakeview-implant", "formats": ["md"]})
    (path,) = out["reports"]
    assert path == str(tmp_path / "integration-validation-abc" / "lakeview-implant" / "integration-validation.md")
    text = Path(path).read_text(encoding="utf-8")
    assert "**Integration validation: NOT PASSED.**" in text and "| cbct-send | failed | — |" in text
    assert "| VP of IT |" in text and "| CDO |" in text
    with pytest.raises(StepFailed, match="one folder name"):
        render(ctx(tmp_path, "x"), {"template": "integration-validation", "folder": "../x", "formats": ["md"]})
