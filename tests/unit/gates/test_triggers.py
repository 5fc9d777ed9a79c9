"""The four rollback triggers, at their boundaries, per location."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from golive.tasks.gates.criteria import Op
from golive.tasks.gates.observations import Observations, Sample
from golive.tasks.gates.triggers import (
    AVAILABILITY,
    CLINICAL,
    DATA_LOSS,
    REFUSAL,
    TriggerRules,
    affected,
    check,
)

D0 = date(2026, 4, 1)


def days(location: str, metric: str, values: list[float]) -> list[Sample]:
    return [Sample(location, metric, D0 + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def healthy(location: str) -> list[Sample]:
    return (days(location, "uptime_pct", [99.9] * 10) + days(location, "critical_clinical_errors", [0] * 10)
            + days(location, "data_loss_incidents", [0] * 10) + days(location, "providers_refusing_pct", [0] * 10))


def test_availability_two_days_below_95_does_not_fire_three_does() -> None:
    two = days("a", "uptime_pct", [99, 99, 90, 90, 99, 99, 99, 99, 99, 99])
    three = days("b", "uptime_pct", [99, 99, 90, 90, 90, 99, 99, 99, 99, 99])
    hits = check(Observations.from_samples(two + three))
    assert [(h.location, h.trigger) for h in hits] == [("b", AVAILABILITY)]
    assert hits[0].day == D0 + timedelta(days=4)  # the third day below is when it fires
    assert hits[0].evidence["since"] == (D0 + timedelta(days=2)).isoformat()
    assert hits[0].evidence["lowest_pct"] == 90


def test_exactly_95_is_not_below() -> None:
    assert check(Observations.from_samples(days("a", "uptime_pct", [95, 95, 95, 95]))) == ()
    assert len(check(Observations.from_samples(days("a", "uptime_pct", [94.99, 94.99, 94.99])))) == 1


def test_clinical_error_and_data_loss_fire_on_the_first_report() -> None:
    samples = days("a", "critical_clinical_errors", [0, 0, 1, 0]) + days("b", "data_loss_incidents", [0, 2, 0, 0])
    hits = check(Observations.from_samples(samples))
    assert [(h.location, h.trigger, h.day) for h in hits] == [
        ("a", CLINICAL, D0 + timedelta(days=2)), ("b", DATA_LOSS, D0 + timedelta(days=1))]
    assert hits[1].evidence["count"] == 2


@pytest.mark.parametrize(("pct", "op", "fires"), [(50, Op.GT, False), (75, Op.GT, True), (50, Op.GE, True), (25, Op.GE, False)])
def test_provider_refusal_threshold(pct: float, op: Op, fires: bool) -> None:
    hits = check(Observations.from_samples(days("a", "providers_refusing_pct", [0, pct, pct])), TriggerRules(refusal_op=op))
    assert bool(hits) is fires
    if fires:
        assert hits[0].trigger == REFUSAL


def test_only_affected_locations_are_listed_and_window_applies() -> None:
    samples = healthy("a") + healthy("c") + days("b", "uptime_pct", [80, 80, 80, 99, 99, 99, 99, 99, 99, 99])
    obs = Observations.from_samples(samples)
    found = affected(check(obs))
    assert [a["location"] for a in found] == ["b"]
    assert found[0]["triggers"] == [AVAILABILITY]
    # A window that starts after the outage sees nothing.
    assert check(obs, TriggerRules(window_days=5)) == ()
    # Restricting the watch to other locations never reports b.
    assert check(obs, locations=["a", "c"]) == ()


def test_several_triggers_at_one_location_are_one_entry() -> None:
    samples = days("a", "uptime_pct", [80] * 4) + days("a", "critical_clinical_errors", [0, 1, 0, 0])
    found = affected(check(Observations.from_samples(samples)))
    assert len(found) == 1
    assert found[0]["triggers"] == [AVAILABILITY, CLINICAL]
    assert found[0]["triggered_on"] == (D0 + timedelta(days=1)).isoformat()


def test_a_day_before_the_data_starts_has_no_hit_and_no_error() -> None:
    # A daily gate's first run (go-live day) checks as of the day before: no column in the window.
    obs = Observations.from_samples(healthy("a") + days("b", "critical_clinical_errors", [1] * 10))
    assert check(obs, as_of=D0 - timedelta(days=1)) == ()


def test_since_leaves_out_an_earlier_outage() -> None:
    # A location rolled back for an outage and re-scheduled into a later wave: that wave's gate
    # looks from its own period start, so the old outage does not roll it back again.
    obs = Observations.from_samples(days("a", "uptime_pct", [80, 80, 80, 99, 99, 99, 99, 99]))
    assert [h.location for h in check(obs, TriggerRules(window_days=90))] == ["a"]
    assert check(obs, TriggerRules(window_days=90), since=D0 + timedelta(days=3)) == ()
