"""Baseline metric import into the store (SQLite and PostgreSQL): idempotency, bad rows, report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from golive.tasks.foundation.paths import DEFAULT_ORG, EXAMPLES
from golive.tasks.planning.metric_store import BaselineMetricRow
from golive.tasks.planning.metrics import MetricsImportError, baseline_report, import_metrics_csv
from golive.tasks.planning.organization import load_organization

pytestmark = pytest.mark.integration

HEADER = "location,metric,value,period_start,period_end,sample_size\n"
GOOD = (
    "downtown-metro,case_acceptance_rate,62.5,2026-08-30,2026-11-27,\n"
    "downtown-metro,treatment_plan_minutes,45,2026-11-01,2026-11-27,20\n"
    "suburban-west,case_acceptance_rate,58,2026-08-30,2026-11-27,\n"
)
BASELINE = sorted((EXAMPLES / "acme-dental" / "baseline").glob("*.csv"))


def write(tmp_path: Path, body: str, name: str = "baseline.csv") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def count(store: Any) -> int:
    with store.session(readonly=True) as s:
        return int(s.scalar(select(func.count()).select_from(BaselineMetricRow)) or 0)


def values(store: Any) -> dict[tuple[str, str], float]:
    with store.session(readonly=True) as s:
        return {(r.location_id, r.metric): r.value for r in s.scalars(select(BaselineMetricRow))}


def test_import_is_idempotent(store: Any, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    first = import_metrics_csv(store, path, "regional-central")
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    before = values(store)
    second = import_metrics_csv(store, path, "regional-central")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert count(store) == 3 and values(store) == before
    assert first.sha256 == second.sha256


def test_corrected_file_updates_only_what_changed(store: Any, tmp_path: Path) -> None:
    import_metrics_csv(store, write(tmp_path, GOOD), None)
    fixed = GOOD.replace("suburban-west,case_acceptance_rate,58", "suburban-west,case_acceptance_rate,59.5")
    r = import_metrics_csv(store, write(tmp_path, fixed, "fixed.csv"), "correction")
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 2)
    assert values(store)[("suburban-west", "case_acceptance_rate")] == 59.5
    with store.session(readonly=True) as s:
        row = s.scalars(select(BaselineMetricRow).where(BaselineMetricRow.location_id == "suburban-west")).one()
        assert row.source == "correction" and row.line == 4


def test_file_with_errors_imports_nothing(store: Any, tmp_path: Path) -> None:
    org = load_organization(DEFAULT_ORG)
    bad = GOOD + "downtown-metro,plan_wait_days,-1,2026-08-30,2026-11-27,\nnowhere,case_acceptance_rate,5,2026-08-30,2026-11-27,\n"
    path = write(tmp_path, bad)
    with pytest.raises(MetricsImportError) as exc:
        import_metrics_csv(store, path, None, org=org)
    lines = str(exc.value).splitlines()
    assert lines[0].endswith("baseline.csv:5:3: error: value: impossible patient wait time for treatment plan -1 days "
                             "(must be ≥ 0 and ≤ 365)")
    assert "baseline.csv:6:1: error: location: unknown location 'nowhere'" in lines[1]
    assert count(store) == 0


def test_skip_bad_rows_imports_the_good_ones(store: Any, tmp_path: Path) -> None:
    bad = GOOD + "downtown-metro,plan_wait_days,soon,2026-08-30,2026-11-27,\n"
    r = import_metrics_csv(store, write(tmp_path, bad), None, skip_bad_rows=True)
    assert (r.inserted, r.skipped, len(r.issues)) == (3, 1, 1)
    assert r.issues[0].line == 5 and r.issues[0].column == 3
    assert count(store) == 3


def test_broken_header_fails_even_with_skip_bad_rows(store: Any, tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("loc,metric,value\nx,y,1\n", encoding="utf-8")
    with pytest.raises(MetricsImportError, match="missing required column 'location'"):
        import_metrics_csv(store, p, None, skip_bad_rows=True)


def test_example_baseline_completeness_and_flags(store: Any, tmp_path: Path) -> None:
    org = load_organization(DEFAULT_ORG)
    on_time = datetime(2027, 1, 6, tzinfo=UTC)
    for path in BASELINE:
        import_metrics_csv(store, path, path.stem, org=org, now=on_time)
    late = datetime(2027, 1, 12, tzinfo=UTC)
    fix = write(tmp_path, "valley-view,plan_revision_rate,14,2026-10-29,2026-11-27,30\n", "late.csv")
    import_metrics_csv(store, fix, "late", org=org, now=late)

    report = baseline_report(store, org, deadline=date(2027, 1, 8), as_of=date(2027, 1, 12))
    status = {c.location_id: c for c in report.locations}
    assert status["downtown-metro"].status == "complete"
    assert status["bayview"].status == "overdue" and status["bayview"].reported == 0
    assert status["old-town"].reported == 3
    assert status["valley-view"].missing == ("ortho_acceptance_rate",)
    assert status["valley-view"].late == ("plan_revision_rate",)
    kinds = {(f.location_id, f.metric, f.kind) for f in report.flags}
    assert {
        ("granite-falls", "treatment_plan_minutes", "implausible"),
        ("granite-falls", "treatment_plan_minutes", "outlier"),
        ("eastside-specialty", "case_acceptance_rate", "implausible"),
        ("sunset-plaza", "imaging_interpretation_minutes", "outlier"),
        ("oak-park", "implant_case_value", "outlier"),
        ("cedar-hills", "treatment_plan_minutes", "small sample"),
        ("pine-ridge", "referral_out_rate", "short period"),
    } <= kinds
    before = baseline_report(store, org, deadline=date(2027, 1, 8), as_of=date(2027, 1, 7))
    assert {c.status for c in before.locations} == {"complete", "pending"}


def test_example_file_with_errors_lists_every_bad_row(store: Any) -> None:
    org = load_organization(DEFAULT_ORG)
    with pytest.raises(MetricsImportError) as exc:
        import_metrics_csv(store, EXAMPLES / "acme-dental" / "baseline-with-errors.csv", None, org=org)
    assert [(i.line, i.column) for i in exc.value.issues] == [(3, 2), (4, 3), (5, 3), (6, 4), (7, 1), (9, 6)]
    assert count(store) == 0
