"""The pure gate: hand-computed fixtures at and around every threshold, scopes, verdict rules."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from golive.tasks.gates.criteria import GateSpecError, Status, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.gates.observations import Observations, Sample
from golive.tasks.gates.verdict import Decision

D0 = date(2026, 3, 1)


def series(location: str, metric: str, values: list[float | None], start: date = D0) -> list[Sample]:
    return [Sample(location, metric, start + timedelta(days=i), float(v)) for i, v in enumerate(values) if v is not None]


def counts(location: str, metric: str, pairs: list[tuple[int, int]], start: date = D0) -> list[Sample]:
    return [Sample(location, metric, start + timedelta(days=i), 100 * x / n, x, n) for i, (x, n) in enumerate(pairs)]


def gate(samples: list[Sample], *criteria: dict[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    return evaluate(parse_spec(list(criteria), **kw), Observations.from_samples(samples))


UPTIME = {"id": "uptime", "metric": "uptime_pct", "test": "threshold", "op": ">", "value": 99, "window": {"last_days": 14},
          "min_samples": 14}


@pytest.mark.parametrize(
    ("daily", "op", "status"),
    [
        ([99.0] * 14, ">", Status.FAIL),  # exactly 99.0 is not > 99
        ([99.01] * 14, ">", Status.PASS),
        ([98.5, 99.5] * 7, ">", Status.FAIL),  # mean exactly 99.0
        ([98.5, 99.5] * 7, ">=", Status.PASS),
        ([99.1, 99.2, 99.3] * 4 + [98.7, 98.8], ">", Status.PASS),  # mean 99.0714…
        ([99.02] * 13 + [98.9], ">", Status.PASS),  # mean 99.0114…: just above
        ([99.0] * 13 + [99.01], ">", Status.PASS),  # mean 99.0007…: above by 0.0007, not noise
    ],
)
def test_uptime_at_and_around_99(daily: list[float], op: str, status: Status) -> None:
    v = gate(series("a", "uptime_pct", daily), {**UPTIME, "op": op})
    assert v.criteria[0].status is status
    assert v.decision is (Decision.GO if status is Status.PASS else Decision.NO_GO)


def test_uptime_mean_is_hand_computed() -> None:
    daily = [99.1, 99.2, 99.3] * 4 + [98.7, 98.8]
    v = gate(series("a", "uptime_pct", daily), UPTIME)
    assert v.criteria[0].results[0].value == pytest.approx(sum(daily) / 14)
    assert v.criteria[0].results[0].n == 14


ADOPTION = {"id": "adoption", "metric": "adoption_pct", "test": "threshold", "aggregate": "rate", "op": ">", "value": 80,
            "window": {"last_days": 10}, "min_samples": 10}


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        ([(8, 10)] * 10, Status.FAIL),  # exactly 80% is not > 80%
        ([(80, 100)] * 10, Status.FAIL),
        ([(8, 10)] * 9 + [(9, 10)], Status.PASS),  # 81/100
        ([(7, 10)] * 5 + [(9, 10)] * 5, Status.FAIL),  # 80/100 from unequal days
        ([(4, 5), (12, 15), (8, 10), (16, 20), (4, 5), (8, 10), (8, 10), (8, 10), (8, 10), (9, 10)], Status.PASS),  # 85/105
    ],
)
def test_adoption_rate_at_and_around_80_percent(pairs: list[tuple[int, int]], status: Status) -> None:
    v = gate(counts("a", "adoption_pct", pairs), ADOPTION)
    assert v.criteria[0].status is status
    num, den = sum(x for x, _ in pairs), sum(n for _, n in pairs)
    assert v.criteria[0].results[0].value == pytest.approx(100 * num / den)


AVAIL = {"id": "availability", "metric": "uptime_pct", "test": "consecutive", "op": "<", "value": 95, "max_days": 2,
         "window": {"last_days": 10}, "min_samples": 5}


@pytest.mark.parametrize(
    ("daily", "status", "longest"),
    [
        ([99, 99, 94, 94, 99, 99, 99, 99, 99, 99], Status.PASS, 2),  # exactly 2 days below: allowed
        ([99, 99, 94, 94, 94, 99, 99, 99, 99, 99], Status.FAIL, 3),  # 3 days: more than 2
        ([94, 94, 99, 94, 94, 99, 94, 94, 99, 99], Status.PASS, 2),  # runs of 2 never add up
        ([99, 95, 95, 95, 95, 99, 99, 99, 99, 99], Status.PASS, 0),  # exactly 95 is not below 95
        ([99, 94.99, 94.99, 94.99, 99, 99, 99, 99, 99, 99], Status.FAIL, 3),
        ([99, 94, 94, None, 94, 99, 99, 99, 99, 99], Status.PASS, 2),  # a missing day breaks the run
    ],
)
def test_availability_exactly_two_versus_three_days_below_95(daily: list[float | None], status: Status, longest: int) -> None:
    v = gate(series("a", "uptime_pct", daily), AVAIL)
    r = v.criteria[0].results[0]
    assert r.status is status
    assert r.evidence["longest_run"] == longest


def test_min_days_needs_the_condition_up_to_the_end() -> None:
    crit = {"id": "stable", "metric": "errors", "test": "consecutive", "op": "==", "value": 0, "min_days": 3,
            "window": {"last_days": 6}}
    assert gate(series("a", "errors", [1, 0, 0, 1, 0, 0]), crit).criteria[0].status is Status.FAIL
    assert gate(series("a", "errors", [1, 1, 1, 0, 0, 0]), crit).criteria[0].status is Status.PASS


def test_too_little_data_is_inconclusive_never_a_pass() -> None:
    v = gate(series("a", "uptime_pct", [99.9] * 13), UPTIME)  # 13 of the 14 days needed
    assert v.criteria[0].status is Status.INCONCLUSIVE
    assert v.decision is Decision.INCONCLUSIVE
    assert "13 days with data, needs 14" in v.criteria[0].reason


def test_missing_metric_is_inconclusive() -> None:
    v = gate(series("a", "other", [1.0] * 14), UPTIME)
    assert v.decision is Decision.INCONCLUSIVE
    assert "no observations of uptime_pct" in v.criteria[0].reason


def test_location_scope_names_the_failing_location() -> None:
    samples = series("a", "uptime_pct", [99.9] * 14) + series("b", "uptime_pct", [98.0] * 14) + series("c", "uptime_pct", [99.5] * 14)
    v = gate(samples, UPTIME)
    assert v.criteria[0].failing == ["b"]
    assert v.decision is Decision.NO_GO
    assert "1/3 locations failing: b" in v.criteria[0].reason


def test_spec_locations_limit_the_scope() -> None:
    samples = series("a", "uptime_pct", [99.9] * 14) + series("b", "uptime_pct", [98.0] * 14)
    v = gate(samples, UPTIME, locations=["a"])
    assert v.decision is Decision.GO
    assert [r.location for r in v.criteria[0].results] == ["a"]


def test_decision_rules() -> None:
    good = series("a", "uptime_pct", [99.9] * 14)
    soft_fail = {**UPTIME, "id": "soft", "critical": False, "value": 99.95}
    short = {**UPTIME, "id": "short", "min_samples": 30}
    v = gate(good, UPTIME, soft_fail)
    assert v.decision is Decision.GO and v.score == 0.5
    assert any("non-critical" in r for r in v.reasons)
    assert gate(good, soft_fail, short).decision is Decision.INCONCLUSIVE
    assert gate(good, {**UPTIME, "value": 99.95}, short).decision is Decision.NO_GO  # critical failure wins


def _acceptance(base_rate: float, cur_rate: float, n: int = 20, days: int = 28) -> list[Sample]:
    base = [(round(base_rate * n), n)] * days
    cur = [(round(cur_rate * n), n)] * days
    return counts("a", "acc", base) + counts("a", "acc", cur, start=D0 + timedelta(days=days))


ACC = {"id": "acc", "metric": "acc", "test": "no_decrease", "scope": "wave", "window": {"period": "pilot"},
       "baseline": {"period": "baseline"}, "min_samples": 14}
PERIODS = {"baseline": {"start": "2026-03-01", "end": "2026-03-28"}, "pilot": {"start": "2026-03-29", "end": "2026-04-25"}}


def test_no_decrease_fails_on_a_significant_decrease_with_evidence() -> None:
    v = gate(_acceptance(0.60, 0.50), ACC, periods=PERIODS)
    c = v.criteria[0]
    assert c.status is Status.FAIL and v.decision is Decision.NO_GO
    ev = c.evidence
    assert ev["method"] == "two_proportion"
    assert ev["effect"] == pytest.approx(-10.0)  # percentage points
    assert ev["p_value"] < 0.05 and ev["ci_high"] < 0
    # hand computation: pooled p = 0.55, n = 560 each
    z = -0.10 / np.sqrt(0.55 * 0.45 * (2 / 560))
    assert ev["statistic"] == pytest.approx(z)
    assert ev["min_detectable_decrease"] == pytest.approx(100 * 2.486475 * np.sqrt(0.55 * 0.45 * 2 / 560), rel=1e-5)


def test_no_decrease_passes_without_a_decrease_and_reports_power() -> None:
    c = gate(_acceptance(0.60, 0.60), ACC, periods=PERIODS).criteria[0]
    assert c.status is Status.PASS
    assert c.evidence["p_value"] == pytest.approx(0.5)
    assert 0 < c.evidence["min_detectable_decrease"] < 10


def test_no_decrease_underpowered_is_inconclusive_when_asked() -> None:
    c = gate(_acceptance(0.60, 0.60, n=5), {**ACC, "max_detectable": 2.0}, periods=PERIODS).criteria[0]
    assert c.status is Status.INCONCLUSIVE
    assert "only a decrease over" in c.reason


def test_no_decrease_welch_for_continuous_metrics() -> None:
    rng = np.random.default_rng(0)
    base = list(rng.normal(100, 5, 28))
    cur = list(rng.normal(90, 5, 28))
    samples = series("a", "minutes", base) + series("a", "minutes", cur, start=D0 + timedelta(days=28))
    c = gate(samples, {**ACC, "metric": "minutes"}, periods=PERIODS).criteria[0]
    assert c.evidence["method"] == "welch" and c.status is Status.FAIL
    c2 = gate(samples, {**ACC, "metric": "minutes", "method": "mann_whitney"}, periods=PERIODS).criteria[0]
    assert c2.evidence["method"] == "mann_whitney" and c2.status is Status.FAIL


def test_decrease_against_other_locations() -> None:
    wave1 = [Sample(loc, "training_hours", D0 + timedelta(days=i), h) for i, (loc, h) in enumerate([("w1a", 20), ("w1b", 22), ("w1c", 21)])]
    fast = [Sample(loc, "training_hours", D0 + timedelta(days=40 + i), h) for i, (loc, h) in
            enumerate([("w2a", 12), ("w2b", 13), ("w2c", 12.5), ("w2d", 11.5)])]
    slow = [Sample(s.location, s.metric, s.day, s.value + 7.5) for s in fast]
    crit = {"id": "eff", "metric": "training_hours", "test": "decrease", "scope": "wave", "method": "welch",
            "window": {"period": "w2"}, "baseline": {"window": {"period": "w1"}, "locations": ["w1a", "w1b", "w1c"]},
            "min_samples": 2}
    periods = {"w1": {"start": "2026-03-01", "end": "2026-03-20"}, "w2": {"start": "2026-04-01", "end": "2026-04-30"}}
    locs = ["w2a", "w2b", "w2c", "w2d"]
    assert gate(wave1 + fast, crit, periods=periods, locations=locs).criteria[0].status is Status.PASS
    assert gate(wave1 + slow, crit, periods=periods, locations=locs).criteria[0].status is Status.INCONCLUSIVE  # 19.75 < 21, not significant
    higher = [Sample(s.location, s.metric, s.day, s.value + 12) for s in fast]
    assert gate(wave1 + higher, crit, periods=periods, locations=locs).criteria[0].status is Status.FAIL


TREND = {"id": "tickets", "metric": "tickets", "test": "trend", "scope": "wave", "combine": "sum", "window": {"last_days": 20},
         "min_samples": 14}


def test_trend_over_the_wave_total() -> None:
    down = series("a", "tickets", [20 - i * 0.5 for i in range(20)]) + series("b", "tickets", [10 - i * 0.2 for i in range(20)])
    c = gate(down, TREND).criteria[0]
    assert c.status is Status.PASS
    assert c.evidence["slope_per_day"] == pytest.approx(-0.7)
    flat = series("a", "tickets", [5, 6] * 10)
    assert gate(flat, TREND).criteria[0].status is Status.FAIL
    assert gate(series("a", "tickets", [5, 4, 3]), TREND).criteria[0].status is Status.INCONCLUSIVE


CV = {"id": "consistency", "metric": "adoption_pct", "test": "dispersion", "max_cv": 0.10, "window": {"last_days": 5},
      "min_samples": 5}


def _cv_fixture(a: float, b: float) -> list[Sample]:
    return series("a", "adoption_pct", [a] * 5) + series("b", "adoption_pct", [b] * 5)


def test_dispersion_at_and_around_ten_percent() -> None:
    # Two locations m ± d: sample sd = d·√2, cv = d·√2 / m. For cv exactly 0.10: d = 0.1·m/√2.
    d = 0.1 * 80 / np.sqrt(2)
    exactly = gate(_cv_fixture(80 - d, 80 + d), CV).criteria[0]
    assert exactly.evidence["cv"] == pytest.approx(0.10) and exactly.status is Status.FAIL  # "< 10%"
    assert gate(_cv_fixture(80 - d * 0.999, 80 + d * 0.999), CV).criteria[0].status is Status.PASS
    assert gate(_cv_fixture(80 - d * 1.001, 80 + d * 1.001), CV).criteria[0].status is Status.FAIL
    lonely = gate(series("a", "adoption_pct", [80] * 5), CV).criteria[0]
    assert lonely.status is Status.INCONCLUSIVE


def test_verdict_is_json_with_evidence_for_every_criterion() -> None:
    samples = series("a", "uptime_pct", [99.9] * 14) + _acceptance(0.6, 0.6)
    v = gate(samples, UPTIME, AVAIL, {**ACC}, periods=PERIODS)
    data = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    assert data["verdict"] in ("go", "no-go", "inconclusive")
    assert [c["id"] for c in data["criteria"]] == ["uptime", "availability", "acc"]
    assert all(c["reason"] for c in data["criteria"])
    assert len(v.table()) == 3


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        ({"id": "x", "metric": "m", "test": "magic"}, "test must be one of"),
        ({"id": "x", "metric": "m", "test": "threshold", "value": 1}, "needs op and value"),
        ({"id": "x", "metric": "m", "test": "threshold", "op": ">", "value": 1, "window": {"period": "nope"}}, "unknown period 'nope'"),
        ({"id": "x", "metric": "m", "test": "threshold", "op": ">", "value": 1, "scope": "across"}, "scope across is for dispersion"),
        ({"id": "x", "metric": "m", "test": "consecutive", "op": "<", "value": 95}, "exactly one of max_days, min_days"),
        ({"id": "x", "metric": "m", "test": "no_decrease"}, "needs a baseline"),
        ({"id": "x", "metric": "m", "test": "dispersion"}, "needs max_cv"),
        ({"id": "x", "metric": "m", "test": "decrease", "baseline": {"window": 5, "locations": ["w1"]}}, "scope must be wave"),
    ],
)
def test_bad_criteria_are_user_errors(criterion: dict[str, Any], message: str) -> None:
    with pytest.raises(GateSpecError, match=message):
        parse_spec([criterion])


def test_single_baseline_value_uses_a_one_sample_test() -> None:
    # An imported baseline report gives one value per location for its period (no daily data).
    base = [Sample("a", "acc", date(2026, 3, 28), 62.0), Sample("b", "acc", date(2026, 3, 28), 50.0)]
    cur_a = series("a", "acc", [61.0, 63.0, 62.5, 61.5] * 4, start=date(2026, 3, 29))
    cur_b = series("b", "acc", [49.0, 51.0, 50.5, 49.5] * 4, start=date(2026, 3, 29))
    crit = {**ACC, "scope": "location", "min_baseline_samples": 1}
    v = gate(base + cur_a + cur_b, crit, periods=PERIODS)
    c = v.criteria[0]
    assert [r.evidence["method"] for r in c.results] == ["one_sample", "one_sample"]
    assert c.status is Status.PASS
    assert c.results[0].evidence["effect"] == pytest.approx(0.0)
    dropped = [Sample(s.location, s.metric, s.day, s.value - 3) for s in cur_b]
    assert gate(base + cur_a + dropped, crit, periods=PERIODS).criteria[0].failing == ["b"]
    # Pooled over the wave, each location is compared with its own baseline.
    assert gate(base + cur_a + cur_b, {**crit, "scope": "wave"}, periods=PERIODS).criteria[0].status is Status.PASS
    # Without min_baseline_samples the single baseline day is too little data.
    assert gate(base + cur_a + cur_b, ACC, periods=PERIODS).decision is Decision.INCONCLUSIVE


# -- staggered go-lives: each location judged from its own -----------------------------------

PERIOD = {"pilot": {"start": D0.isoformat(), "end": (D0 + timedelta(days=59)).isoformat()}}
UPTIME_PILOT = {**UPTIME, "window": {"period": "pilot"}}


def test_a_locations_days_before_its_own_go_live_do_not_count() -> None:
    # b went live 20 days after a; its 20 days before (an outage while it still ran the old workflow,
    # or the simulator's pre-go-live rows) must not fail it, and its 14 days since must be there to pass.
    late = D0 + timedelta(days=20)
    data = series("a", "uptime_pct", [99.9] * 34) + series("b", "uptime_pct", [50.0] * 20 + [99.9] * 14)
    as_of = (D0 + timedelta(days=33)).isoformat()
    whole = gate(data, UPTIME_PILOT, periods=PERIOD, as_of=as_of, locations=["a", "b"])
    own = gate(data, UPTIME_PILOT, periods=PERIOD, as_of=as_of, locations=["a", "b"],
               live={"a": D0.isoformat(), "b": late.isoformat()}, min_live_days=14)
    assert whole.decision is Decision.NO_GO  # the wave's first go-live for both: b's earlier days count
    assert own.decision is Decision.GO, own.reasons
    b = next(r for r in own.criteria[1].results if r.location == "b")
    assert b.n == 14 and b.value == pytest.approx(99.9)


def test_no_go_before_every_location_has_been_live_min_live_days() -> None:
    # A wave-scope criterion alone would pass on a's data; b (live 5 days) and c (not live) hold the GO.
    data = series("a", "uptime_pct", [99.9] * 30) + series("b", "uptime_pct", [99.9] * 5, D0 + timedelta(days=25))
    wave = {**UPTIME_PILOT, "scope": "wave"}
    live = {"a": D0.isoformat(), "b": (D0 + timedelta(days=25)).isoformat()}
    as_of = (D0 + timedelta(days=29)).isoformat()
    v = gate(data, wave, periods=PERIOD, as_of=as_of, locations=["a", "b", "c"], live=live, min_live_days=14)
    assert v.decision is Decision.INCONCLUSIVE
    held = v.criteria[0]
    assert held.id == "live-period" and held.status is Status.INCONCLUSIVE and held.critical
    assert held.reason == "2/3 locations live under 14 days: b, c"
    assert {r.location: r.detail for r in held.results} == {"a": "live 30 day(s)", "b": "live 5 day(s)",
                                                            "c": "not live yet"}
    assert v.criteria[1].status is Status.PASS  # the wave's pooled uptime itself is fine
    # Once c is live and everyone has had 14 days, the same gate says GO.
    data += series("c", "uptime_pct", [99.9] * 14, D0 + timedelta(days=30))
    later = gate(data, wave, periods=PERIOD, as_of=(D0 + timedelta(days=43)).isoformat(), locations=["a", "b", "c"],
                 live={**live, "c": (D0 + timedelta(days=30)).isoformat()}, min_live_days=14)
    assert later.decision is Decision.GO and later.criteria[0].status is Status.PASS


def test_a_baseline_before_go_live_still_counts_with_go_lives_given() -> None:
    # case acceptance: the baseline is before go-live by definition; only the current window is cut.
    base = counts("a", "case_acceptance_pct", [(6, 10)] * 20)
    cur = counts("a", "case_acceptance_pct", [(6, 10)] * 20, D0 + timedelta(days=20))
    crit = {"id": "acc", "metric": "case_acceptance_pct", "test": "no_decrease", "scope": "wave",
            "window": {"period": "pilot"}, "baseline": {"period": "baseline"}, "min_samples": 14}
    periods = {"pilot": {"start": (D0 + timedelta(days=20)).isoformat(), "end": (D0 + timedelta(days=39)).isoformat()},
               "baseline": {"start": D0.isoformat(), "end": (D0 + timedelta(days=19)).isoformat()}}
    v = gate(base + cur, crit, periods=periods, locations=["a"], live={"a": (D0 + timedelta(days=20)).isoformat()})
    assert v.criteria[0].status is Status.PASS, v.criteria[0].reason
    assert v.criteria[0].evidence["baseline_days"] == 20 and v.criteria[0].evidence["current_days"] == 20


def test_a_staggered_waves_ticket_trend_is_read_from_each_go_live() -> None:
    # Three locations go live a week apart; each one's tickets fall from its own go-live. Summed by
    # calendar day the wave's volume rises while locations join, which is not the wave's trend.
    trend = {**TREND, "window": {"period": "pilot"}, "scope": "wave", "combine": "sum"}
    live = {loc: D0 + timedelta(days=7 * k) for k, loc in enumerate("abc")}
    data = [s for k, loc in enumerate("abc")
            for s in series(loc, "tickets", [None] * (7 * k) + [12 - 0.3 * i for i in range(35 - 7 * k)])]
    as_of = (D0 + timedelta(days=34)).isoformat()
    calendar = gate(data, trend, periods=PERIOD, as_of=as_of, locations=["a", "b", "c"]).criteria[0]
    own = gate(data, trend, periods=PERIOD, as_of=as_of, locations=["a", "b", "c"],
               live={k: d.isoformat() for k, d in live.items()}).criteria[0]
    assert calendar.status is Status.FAIL  # the summed calendar series rises at each go-live
    assert own.status is Status.PASS, own.reason
    assert own.evidence["slope_per_day"] == pytest.approx(-0.9)  # 3 locations x -0.3 a day
    assert own.evidence["clock"].endswith("the 21 every location has had")
    # A location in scope that is not live yet adds nothing (and does not shorten the clock).
    not_yet = gate(data, trend, periods=PERIOD, as_of=as_of, locations=["a", "b", "c"],
                   live={"a": live["a"].isoformat(), "b": live["b"].isoformat()}).criteria[0]
    assert not_yet.evidence["clock"].endswith("the 28 every location has had")


# -- staggered go-lives: each location's own baseline ------------------------------------------

ACC_LATE = D0 + timedelta(days=70)  # b goes live six weeks after a (D0 + 28)
STAGGERED = {"baseline": {"start": D0.isoformat(), "end": (D0 + timedelta(days=27)).isoformat()},  # a's 28 days before
             "pilot": {"start": (D0 + timedelta(days=28)).isoformat(), "end": (ACC_LATE + timedelta(days=27)).isoformat()}}
STAGGERED_LIVE = {"a": (D0 + timedelta(days=28)).isoformat(), "b": ACC_LATE.isoformat()}


def _staggered_acceptance() -> list[Sample]:
    # a accepts 60% throughout. b accepted 60% in the wave's baseline window, rose to 75% in the six
    # weeks before its own go-live and fell back to 60% after it: a decrease from its own baseline
    # that the wave's window (ended six weeks before b's go-live) does not see.
    a = counts("a", "acc", [(12, 20)] * 98)
    b = counts("b", "acc", [(12, 20)] * 28 + [(15, 20)] * 42 + [(12, 20)] * 28)
    return a + b


def test_a_staggered_locations_baseline_is_its_own_days_before_its_go_live() -> None:
    crit = {**ACC, "scope": "location"}
    as_of = (ACC_LATE + timedelta(days=27)).isoformat()
    wave_window = gate(_staggered_acceptance(), crit, periods=STAGGERED, as_of=as_of, locations=["a", "b"])
    # Without go-lives (a gate run by hand): the window as written, and b's 75% weeks count as current.
    assert wave_window.criteria[0].status is Status.PASS
    assert wave_window.criteria[0].results[1].evidence["baseline_window"] == "2026-03-01..2026-03-28"
    own = gate(_staggered_acceptance(), crit, periods=STAGGERED, as_of=as_of, locations=["a", "b"], live=STAGGERED_LIVE)
    c = own.criteria[0]
    assert c.status is Status.FAIL and c.failing == ["b"]
    a, b = c.results
    assert a.status is Status.PASS and a.evidence["baseline_window"] == "its 28 days before its go-live (2026-03-01..2026-03-28)"
    assert b.evidence["baseline_window"] == "its 28 days before its go-live (2026-04-12..2026-05-09)"
    assert (b.evidence["baseline_days"], b.evidence["current_days"]) == (28, 28)
    assert b.evidence["method"] == "two_proportion" and b.evidence["effect"] == pytest.approx(-15.0)
    assert (a.evidence["baseline_days"], a.evidence["current_days"]) == (28, 70)


def test_a_staggered_waves_pooled_baseline_is_every_locations_own_days() -> None:
    as_of = (ACC_LATE + timedelta(days=27)).isoformat()
    wave_window = gate(_staggered_acceptance(), ACC, periods=STAGGERED, as_of=as_of, locations=["a", "b"]).criteria[0]
    assert wave_window.status is Status.PASS and wave_window.evidence["baseline_window"] == "2026-03-01..2026-03-28"
    c = gate(_staggered_acceptance(), ACC, periods=STAGGERED, as_of=as_of, locations=["a", "b"],
             live=STAGGERED_LIVE).criteria[0]
    ev = c.evidence
    assert ev["baseline_window"] == "each location's 28 days before its go-live (2026-03-01..2026-05-09)"
    assert (ev["baseline_days"], ev["current_days"]) == (56, 98)
    # hand computation: baseline (12 + 15) × 28 of 40 × 28 = 67.5%; current 12 × 98 of 20 × 98 = 60%
    assert ev["method"] == "two_proportion" and ev["effect"] == pytest.approx(-7.5)
    assert (ev["n_baseline"], ev["n_current"]) == (1120, 1960)
    assert c.status is Status.FAIL and ev["p_value"] < 0.05


def test_an_own_baseline_counts_only_locations_live_and_in_scope() -> None:
    # c is in scope but not live: no baseline and no current days of it (inconclusive on its own row,
    # nothing of it in the pooled sample); z is live but out of scope and widens no window.
    data = _staggered_acceptance() + counts("c", "acc", [(1, 20)] * 98) + counts("z", "acc", [(1, 20)] * 98)
    live = {**STAGGERED_LIVE, "z": (D0 + timedelta(days=90)).isoformat()}
    kw: dict[str, Any] = {"periods": STAGGERED, "as_of": (ACC_LATE + timedelta(days=27)).isoformat(),
                          "locations": ["a", "b", "c"], "live": live}
    per = gate(data, {**ACC, "scope": "location"}, **kw).criteria[0]
    c_row = next(r for r in per.results if r.location == "c")
    assert c_row.status is Status.INCONCLUSIVE and c_row.evidence["baseline_window"] == "none: not live yet"
    assert (c_row.evidence["baseline_days"], c_row.evidence["current_days"]) == (0, 0)
    pooled = gate(data, ACC, **kw).criteria[0].evidence
    assert pooled["baseline_window"] == "each location's 28 days before its go-live (2026-03-01..2026-05-09)"
    assert (pooled["n_baseline"], pooled["effect"]) == (1120, pytest.approx(-7.5))
    none_live = gate(data, ACC, **{**kw, "locations": ["c"]}).criteria[0]
    assert none_live.status is Status.INCONCLUSIVE
    assert none_live.evidence["baseline_window"] == "each location's 28 days before its go-live (none live yet)"


def test_a_baseline_over_other_locations_keeps_its_window_with_go_lives_given() -> None:
    # wave 2's training time against wave 1's: wave 1's window is the reference, not days before wave 2's go-lives.
    wave1 = [Sample(loc, "hours", D0 + timedelta(days=i), h) for i, (loc, h) in enumerate([("w1a", 20), ("w1b", 22), ("w1c", 21)])]
    wave2 = [Sample(loc, "hours", D0 + timedelta(days=40 + i), h) for i, (loc, h) in enumerate([("w2a", 12), ("w2b", 13)])]
    crit = {"id": "eff", "metric": "hours", "test": "decrease", "scope": "wave", "method": "welch",
            "window": {"period": "w2"}, "baseline": {"window": {"period": "w1"}, "locations": ["w1a", "w1b", "w1c"]},
            "min_samples": 2}
    periods = {"w1": {"start": "2026-03-01", "end": "2026-03-20"}, "w2": {"start": "2026-04-01", "end": "2026-04-30"}}
    live = {"w2a": "2026-04-10", "w2b": "2026-04-10"}
    c = gate(wave1 + wave2, crit, periods=periods, locations=["w2a", "w2b"], live=live).criteria[0]
    assert c.evidence["baseline_window"] == "2026-03-01..2026-03-20" and c.evidence["baseline_days"] == 3
    assert c.status is Status.PASS
