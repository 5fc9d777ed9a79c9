"""The go/no-go runbooks' own criteria over the example scenarios: the verdict each scenario is
meant to produce (pure evaluation, no Prefect), and the wave-1 gate holds the playbook's six."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from golive.flows.engine.expressions import render_value
from golive.tasks.foundation.paths import EXAMPLES, RUNBOOKS
from golive.tasks.foundation.yamlsafe import load_yaml
from golive.tasks.gates.criteria import Status, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.gates.observations import Observations
from golive.tasks.gates.simulator import load_scenario, simulate
from golive.tasks.gates.verdict import Decision

SCENARIOS = EXAMPLES / "acme-dental" / "scenarios"
PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
WAVE2 = ["suburban-west", "kingsbridge", "downtown-metro", "northside-family", "eastside-specialty"]


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def gate_with(runbook: str, params: dict[str, Any]) -> dict[str, Any]:
    doc = plain(load_yaml(RUNBOOKS / runbook))
    step = next(s for s in doc["steps"] if s["uses"] == "gate")
    return render_value(step["with"], {"params": params})


WAVE1 = {"locations": PILOT, "pilot_start": "2026-03-30", "pilot_end": "2026-04-26", "baseline_start": "2026-03-02",
         "baseline_end": "2026-03-29", "as_of": "", "decide_role": "COO"}


def run_gate(runbook: str, params: dict[str, Any], obs: Observations):  # type: ignore[no-untyped-def]
    w = gate_with(runbook, params)
    spec = parse_spec(w["criteria"], periods=w["periods"], as_of=w["as_of"] or None, locations=w["locations"])
    return evaluate(spec, obs)


def test_wave1_gate_has_the_playbooks_six_critical_criteria() -> None:
    w = gate_with("go-no-go-wave1.yaml", WAVE1)
    assert [c["id"] for c in w["criteria"]] == ["uptime", "critical-bugs", "training", "adoption", "case-acceptance", "champion"]
    assert all(c.get("critical", True) for c in w["criteria"])
    w2 = gate_with("go-no-go-wave2.yaml", {**WAVE1, "wave1_locations": PILOT, "training_start": "2026-05-01",
                                           "wave1_training_start": "2026-03-16", "wave1_training_end": "2026-04-05"})
    assert [c["id"] for c in w2["criteria"]][6:] == ["consistency", "support-tickets", "training-efficiency"]


@pytest.mark.parametrize(
    ("scenario", "pilot_end", "decision", "not_passing"),
    [
        ("pilot-ok", "2026-04-26", Decision.GO, {}),
        ("pilot-outage", "2026-04-26", Decision.NO_GO, {"uptime": Status.FAIL}),
        ("pilot-short", "2026-04-08", Decision.INCONCLUSIVE, {"uptime": Status.INCONCLUSIVE}),
    ],
)
def test_wave1_scenarios(scenario: str, pilot_end: str, decision: Decision, not_passing: dict[str, Status]) -> None:
    obs = simulate(load_scenario(SCENARIOS / f"{scenario}.yaml"), PILOT)
    v = run_gate("go-no-go-wave1.yaml", {**WAVE1, "pilot_end": pilot_end}, obs)
    assert v.decision is decision
    assert {c.id: c.status for c in v.criteria if c.status is not Status.PASS} == not_passing
    if scenario == "pilot-outage":
        assert v.criterion("uptime").failing == ["riverside-ortho"]


def test_wave2_scenario_passes_all_nine() -> None:
    w1 = simulate(load_scenario(SCENARIOS / "pilot-ok.yaml"), PILOT)
    w2 = simulate(load_scenario(SCENARIOS / "wave2-ok.yaml"), WAVE2)
    obs = Observations.from_samples(w1.samples() + w2.samples())
    params = {**WAVE1, "locations": WAVE2, "wave1_locations": PILOT, "pilot_start": "2026-05-11", "pilot_end": "2026-06-07",
              "baseline_start": "2026-04-13", "baseline_end": "2026-05-10", "training_start": "2026-05-01",
              "wave1_training_start": "2026-03-16", "wave1_training_end": "2026-04-05"}
    v = run_gate("go-no-go-wave2.yaml", params, obs)
    assert v.decision is Decision.GO, v.reasons
    assert len(v.criteria) == 9


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_scenario_file_loads(path: Any) -> None:
    assert load_scenario(path).days >= 1


def test_wave3_gate_holds_the_wave1_criteria_plus_consistency_and_tickets() -> None:
    params = {**WAVE1, "locations": WAVE2, "pilot_start": "2026-05-11", "pilot_end": "2026-06-07",
              "baseline_start": "2026-04-13", "baseline_end": "2026-05-10"}
    w3 = gate_with("go-no-go-wave3.yaml", params)
    assert w3["name"] == "go-no-go-wave3" and w3["wave"] == 3
    assert [c["id"] for c in w3["criteria"]] == ["uptime", "critical-bugs", "training", "adoption", "case-acceptance",
                                                 "champion", "consistency", "support-tickets"]
    assert all(c.get("critical", True) for c in w3["criteria"])
    ok = run_gate("go-no-go-wave3.yaml", params, simulate(load_scenario(SCENARIOS / "wave2-ok.yaml"), WAVE2))
    assert ok.decision is Decision.GO, ok.reasons


def test_wave3_staggered_go_lives_compare_each_location_with_its_own_baseline() -> None:
    # Wave 3's go-lives, 5 a week, span weeks: here one a week. The schedule passes the go-lives and a
    # baseline period of the 28 days before the FIRST go-live; each location's case acceptance is
    # compared with its own 28 days before its own go-live (the simulator's pre-go-live days), all of
    # them, where the written period holds only 28 + 21 + 14 + 7 + 0 of them.
    starts = {loc: date(2026, 5, 11) + timedelta(weeks=i) for i, loc in enumerate(WAVE2)}
    obs = simulate(load_scenario(SCENARIOS / "wave2-ok.yaml"), WAVE2, starts)
    params = {**WAVE1, "locations": WAVE2, "pilot_start": "2026-05-11", "pilot_end": "2026-07-05",
              "go_lives": {loc: d.isoformat() for loc, d in starts.items()},
              "baseline_start": "2026-04-13", "baseline_end": "2026-05-10"}
    w = gate_with("go-no-go-wave3.yaml", params)
    spec = parse_spec(w["criteria"], periods=w["periods"], as_of=w["as_of"] or None, locations=w["locations"],
                      live=w["live_since"], min_live_days=w["min_live_days"])
    acc = evaluate(spec, obs).criterion("case-acceptance")
    assert acc.status is Status.PASS, acc.reason
    ev = acc.evidence
    assert ev["baseline_window"] == "each location's 28 days before its go-live (2026-04-13..2026-06-07)"
    assert (ev["baseline_days"], ev["current_days"]) == (5 * 28, 5 * 28)  # the scenario simulates 28 days from each
