"""Baseline metric catalogue and CSV parsing (no store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.foundation.schema_check import load_schema
from golive.tasks.planning.metrics import catalog, parse_metrics_csv, robust_outliers
from golive.tasks.planning.organization import Organization

HEADER = "location,metric,value,period_start,period_end,sample_size\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "baseline.csv"
    p.write_text(header + body, encoding="utf-8")
    return p


def test_catalogue_has_the_playbook_metrics_with_every_field() -> None:
    cat = catalog()
    schema = load_schema("metrics.schema.json")
    assert list(cat) == schema["properties"]["metric"]["enum"]
    assert [a["if"]["properties"]["metric"]["const"] for a in schema["allOf"]] == list(cat)
    by_category = {c: [m.id for m in cat.values() if m.category == c] for c in ("clinical", "operational", "financial")}
    assert len(by_category["clinical"]) == 6 and len(by_category["operational"]) == 4
    assert len(by_category["financial"]) == 4
    for m in cat.values():
        assert m.unit and m.definition and m.data_source and m.collection_method
        lo, hi = m.plausible
        assert m.impossible(lo) is None and m.impossible(hi) is None
    assert cat["treatment_plan_minutes"].sample_size == 20
    assert cat["case_acceptance_rate"].collection_method == "Pull 90-day report"


def test_impossible_values_come_from_the_schema_bounds() -> None:
    rate = catalog()["case_acceptance_rate"]
    assert rate.impossible(100) is None and rate.impossible(0) is None
    assert "must be ≥ 0 and ≤ 100" in (rate.impossible(100.1) or "")
    minutes = catalog()["treatment_plan_minutes"]
    assert minutes.impossible(0) is not None  # a plan cannot take zero minutes
    assert "must be > 0" in (minutes.impossible(-1) or "")


def test_good_file_parses(tmp_path: Path, acme: Organization) -> None:
    ms, issues, rows, blank, sha = parse_metrics_csv(write(tmp_path, (
        "downtown-metro,case_acceptance_rate,62.5%,2026-08-30,2026-11-27,\n"
        "downtown-metro,implant_case_value,\"$4,250\",2026-08-30,2026-11-27,\n"
        "downtown-metro,plan_wait_days,,2026-08-30,2026-11-27,\n"
        "\n"
        "downtown-metro,treatment_plan_minutes,45,2026-11-01,2026-11-27,20\n"
    )), acme)
    assert issues == [] and rows == 4 and blank == 1 and len(sha) == 64
    assert [(m.metric, m.value, m.line) for m in ms] == [
        ("case_acceptance_rate", 62.5, 2), ("implant_case_value", 4250.0, 3), ("treatment_plan_minutes", 45.0, 6)]
    assert ms[2].sample_size == 20


def test_every_bad_row_has_line_and_column(tmp_path: Path, acme: Organization) -> None:
    path = write(tmp_path, (
        "downtown-metro,case_acceptance_rate,62.5,2026-08-30,2026-11-27,\n"
        "downtwn-metro,case_acceptance_rate,62.5,2026-08-30,2026-11-27,\n"
        "downtown-metro,case_acceptence_rate,62.5,2026-08-30,2026-11-27,\n"
        "downtown-metro,ortho_acceptance_rate,-3,2026-08-30,2026-11-27,\n"
        "downtown-metro,implant_acceptance_rate,lots,2026-08-30,2026-11-27,\n"
        "downtown-metro,plan_revision_rate,12,2026-08-30,2026-02-30,30\n"
        "downtown-metro,plan_wait_days,3,2026-09-30,2026-08-30,0\n"
        "downtown-metro,case_acceptance_rate,64,2026-08-30,2026-11-27,\n"
    ))
    _, issues, *_ = parse_metrics_csv(path, acme, display="baseline.csv")
    assert [i.format() for i in issues] == [
        "baseline.csv:3:1: error: location: unknown location 'downtwn-metro'\n    hint: did you mean 'downtown-metro'?",
        "baseline.csv:4:2: error: metric: unknown metric 'case_acceptence_rate'\n    hint: did you mean 'case_acceptance_rate'?",
        "baseline.csv:5:3: error: value: impossible ortho case acceptance rate -3 % (must be ≥ 0 and ≤ 100)",
        "baseline.csv:6:3: error: value: not a number: 'lots'",
        "baseline.csv:7:5: error: period_end: not a date: '2026-02-30'\n    hint: use YYYY-MM-DD",
        "baseline.csv:8:5: error: period_end: period ends (2026-08-30) before it starts (2026-09-30)",
        "baseline.csv:8:6: error: sample_size: must be at least 1, got 0",
        "baseline.csv:9:3: error: value: conflicts with line 2 (same location, metric and period)",
    ]


def test_header_problems(tmp_path: Path) -> None:
    _, issues, *_ = parse_metrics_csv(write(tmp_path, "", header="location,metrc,value,period_start,period_end\n"),
                                      display="b.csv")
    assert [i.format() for i in issues] == [
        "b.csv:1:2: error: unknown column 'metrc'\n    hint: did you mean 'metric'?",
        "b.csv:1:1: error: missing required column 'metric'\n    hint: header: "
        "location,metric,value,period_start,period_end,sample_size",
    ]
    _, issues, *_ = parse_metrics_csv(write(tmp_path, "", header=""), display="b.csv")
    assert issues[0].message.startswith("file is empty")


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.csv"
    p.write_bytes(HEADER.encode() + "caf\xe9,case_acceptance_rate,1,2026-01-01,2026-01-02,\n".encode("latin-1"))
    _, issues, *_ = parse_metrics_csv(p, display="latin1.csv")
    assert issues[0].format().startswith("latin1.csv:2:1: error: file is not valid UTF-8 (byte 0xe9)")


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ({"a": 10, "b": 11, "c": 9, "d": 10.5, "e": 40}, {"e"}),
        ({"a": 10, "b": 11, "c": 9, "d": 10.5, "e": 12}, set()),
        ({"a": 10, "b": 10, "c": 10, "d": 10, "e": 30}, {"e"}),  # MAD 0: mean absolute deviation stands in
        ({"a": 10, "b": 10, "c": 10, "d": 10, "e": 10}, set()),
        ({"a": 10, "b": 11, "c": 500}, set()),  # too few locations to call anything an outlier
    ],
)
def test_robust_outliers(values: dict[str, float], flagged: set[str]) -> None:
    assert set(robust_outliers(values)) == flagged
