"""The seeded metric simulator and its scenario files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.paths import EXAMPLES
from golive.tasks.gates.simulator import METRICS, ScenarioError, load_scenario, scenario_from_dict, simulate

SCENARIOS = EXAMPLES / "acme-dental" / "scenarios"
LOCS = ["lakeview-implant", "riverside-ortho", "suburban-west"]


def test_same_seed_same_numbers_and_locations_are_independent() -> None:
    sc = load_scenario(SCENARIOS / "pilot-ok.yaml")
    a, b = simulate(sc, LOCS), simulate(sc, LOCS)
    more = simulate(sc, [*LOCS, "extra"])
    for m in METRICS:
        np.testing.assert_array_equal(a.metrics[m].values, b.metrics[m].values)
        np.testing.assert_array_equal(a.metrics[m].values, more.metrics[m].values[:3])


def test_rates_carry_their_counts() -> None:
    obs = simulate(load_scenario(SCENARIOS / "pilot-ok.yaml"), LOCS)
    s = obs.metrics["adoption_pct"]
    assert s.numerator is not None and s.denominator is not None
    ok = np.isfinite(s.values) & (s.denominator > 0)
    np.testing.assert_allclose(s.values[ok], 100 * s.numerator[ok] / s.denominator[ok])
    acc = obs.metrics["case_acceptance_pct"]
    assert np.isfinite(acc.values[:, :28]).all()  # the baseline weeks exist for case acceptance
    assert np.isnan(obs.metrics["uptime_pct"].values[:, :28]).all()  # but not for post-go-live metrics


def test_outage_hits_only_the_named_location() -> None:
    obs = simulate(load_scenario(SCENARIOS / "pilot-outage.yaml"), LOCS)
    up = obs.metrics["uptime_pct"].values
    go_live = 28
    assert (up[1, go_live + 9 : go_live + 12] == 80).all()
    assert np.nanmin(up[[0, 2]]) > 99


def test_events_refusals_errors_and_training_gaps() -> None:
    sc = scenario_from_dict({
        "start": "2026-05-04", "days": 10, "providers": {"per_location": 4},
        "refusals": [{"location": "b", "day": 2, "refusing": 3}],
        "critical_errors": [{"location": "#1", "day": 4}],
        "data_loss": [{"location": "b", "day": 5, "count": 2}],
        "training_gaps": [{"location": "a", "untrained": 2}],
        "champion_not_ready": [{"location": "b"}],
    })
    obs = simulate(sc, ["a", "b"])
    assert obs.metrics["providers_refusing_pct"].values[1, 2] == 75
    assert np.nansum(obs.metrics["critical_clinical_errors"].values[0]) == 1
    assert np.nansum(obs.metrics["data_loss_incidents"].values[1]) == 2
    assert np.nanmax(obs.metrics["training_completion_pct"].values[0]) < 100
    assert np.nanmax(obs.metrics["champion_ready"].values[1]) == 0


def test_unknown_location_in_a_scenario_is_a_user_error() -> None:
    sc = scenario_from_dict({"start": "2026-05-04", "outages": [{"location": "nowhere", "day": 1}]})
    with pytest.raises(ScenarioError, match="nowhere"):
        simulate(sc, ["a"])


def test_bad_scenario_file_reports_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: '2026-05-04'\nuptime:\n  normal_pct: 130\n  nois_pct: 1\n", encoding="utf-8")
    with pytest.raises(RunbookInvalid) as err:
        load_scenario(bad)
    text = str(err.value)
    assert f"{bad}:3:" in text and f"{bad}:4:" in text


def test_each_location_starts_at_its_own_go_live() -> None:
    # A wave whose go-lives are staggered: riverside-ortho goes live 10 days after the others. Its
    # post-go-live metrics begin that day (none before), and its series is the one it has alone.
    from datetime import timedelta

    sc = load_scenario(SCENARIOS / "pilot-outage.yaml")
    late = sc.start + timedelta(days=10)
    obs = simulate(sc, LOCS, {"riverside-ortho": late})
    aligned = simulate(sc, LOCS)
    assert obs.start == aligned.start and obs.days == aligned.days + 10
    up = obs.metrics["uptime_pct"].values
    col = (late - obs.start).days
    assert np.isnan(up[1, :col]).all() and np.isfinite(up[1, col])
    np.testing.assert_array_equal(up[1, col:], aligned.metrics["uptime_pct"].values[1, 28:])
    assert (up[1, col + 9:col + 12] == 80).all()  # the scenario's day-9 outage: 9 days after its own go-live
    np.testing.assert_array_equal(up[[0, 2], :aligned.days], aligned.metrics["uptime_pct"].values[[0, 2]])
    acc = obs.metrics["case_acceptance_pct"]
    assert np.isfinite(acc.values[1, col - 28:col]).all()  # its baseline weeks: the 28 days before its go-live
