"""The scale test's load plan (deploy/program_load.py): every location validated once, the three
kinds interleaved, and the count asked for."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "deploy"))

import program_load  # noqa: E402 - the deploy script beside cluster.py


def _prepared(n: int) -> program_load.Prepared:
    conn = {"product": "opendental", "base_url": "http://127.0.0.1:1/api/v1", "secret": "env:X"}
    return program_load.Prepared(Path("org.yaml"), [f"loc-{i:03d}" for i in range(n)], conn, simulators=None)


@pytest.mark.parametrize(("runs", "locations"), [(100, 50), (20, 10), (9, 50), (2, 2)])
def test_the_plan_has_the_runs_asked_for_and_validates_each_location_once(runs: int, locations: int) -> None:
    plan = program_load.runs(_prepared(locations), runs)
    assert len(plan) == runs
    validated = [p["parameters"]["location"] for name, p in plan if name == program_load.VALIDATION]
    assert len(validated) == len(set(validated)) == min(locations, runs // 2)
    for name, p in plan:
        if name == program_load.VALIDATION:
            assert p["runbook"].endswith("examples/rehearsal/pms-validation.yaml")
            assert p["parameters"]["pms_connection"]["secret"].startswith("env:")  # a reference, never a key


def test_the_100_run_plan_mixes_validation_metrics_and_the_trigger_gate() -> None:
    plan = program_load.runs(_prepared(50), 100)
    kinds = Counter(name for name, _p in plan)
    assert kinds == {program_load.VALIDATION: 50, program_load.METRICS: 30, program_load.TRIGGER_GATE: 20}
    first_ten = {name for name, _p in plan[:10]}
    assert first_ten == set(kinds)  # interleaved, so the kinds run at the same time
    shared = Counter(loc for name, p in plan if name == program_load.METRICS for loc in p["locations"])
    assert max(shared.values()) > 1  # metric writers share locations (the UniqueViolation case)
    gates = [p for name, p in plan if name == program_load.TRIGGER_GATE]
    assert all(len(p["locations"]) == 5 and p["launch"] == "record" for p in gates)
