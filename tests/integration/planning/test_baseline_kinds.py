"""`planning.baseline_import` and `planning.baseline` against a real SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.foundation.paths import DEFAULT_ORG, EXAMPLES
from golive.tasks.planning import kinds
from golive.tasks.planning.organization import load_organization

pytestmark = pytest.mark.integration


def ctx(store: Any, tmp_path: Path, events: list[tuple[str, Any]] | None = None) -> StepContext:
    sink = events if events is not None else []
    return StepContext(run_id="r", run_key="rk", runbook="readiness-assessment", step_id="b", step_key="b",
                       org=load_organization(DEFAULT_ORG), store=store, out_dir=tmp_path, artifacts=NullArtifacts(),
                       audit=lambda event, data: sink.append((event, data)))


def test_import_then_report(sqlite_store: Any, tmp_path: Path) -> None:
    files = [str(p) for p in sorted((EXAMPLES / "acme-dental" / "baseline").glob("*.csv"))]
    events: list[tuple[str, Any]] = []
    out = kinds.run_baseline_import(ctx(sqlite_store, tmp_path, events), {"files": files, "source": "week-1"})
    assert out["inserted"] == 323 and out["updated"] == 0
    assert events[0][0] == "baseline.import" and events[0][1]["inserted"] == 323
    again = kinds.run_baseline_import(ctx(sqlite_store, tmp_path), {"files": files})
    assert again["inserted"] == 0 and all(f["unchanged"] == f["rows"] - f["blank"] for f in again["files"])

    report = kinds.run_baseline(ctx(sqlite_store, tmp_path), {"start": "2027-01-04", "as_of": "2027-01-11"})
    assert report["deadline"] == "2027-01-08"
    assert report["complete"] == 22 and set(report["overdue"]) == {"valley-view", "old-town", "bayview"}
    assert len(report["metrics"]) == 14
    with pytest.raises(StepFailed, match="baseline overdue at 3 location"):
        kinds.run_baseline(ctx(sqlite_store, tmp_path), {"start": "2027-01-04", "as_of": "2027-01-11",
                                                          "fail_on_overdue": True})


def test_bad_file_fails_the_step_and_imports_nothing(sqlite_store: Any, tmp_path: Path) -> None:
    bad = str(EXAMPLES / "acme-dental" / "baseline-with-errors.csv")
    with pytest.raises(StepFailed) as exc:
        kinds.run_baseline_import(ctx(sqlite_store, tmp_path), {"files": [bad]})
    assert "nothing imported" in str(exc.value) and "baseline-with-errors.csv:3:2: error" in str(exc.value)
    out = kinds.run_baseline_import(ctx(sqlite_store, tmp_path), {"files": [bad], "skip_bad_rows": True})
    assert out["inserted"] == 2 and out["files"][0]["skipped"] == 6


def test_baseline_needs_a_deadline(sqlite_store: Any, tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="needs `deadline` or the rollout `start`"):
        kinds.run_baseline(ctx(sqlite_store, tmp_path), {})
