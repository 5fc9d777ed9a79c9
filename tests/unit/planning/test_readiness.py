"""Readiness scoring: every criteria row at and around its bounds, the conflict rule, overrides,
missing data, tiers, and the playbook's sample matrix."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from golive.tasks.planning.organization import (
    Champion,
    Device,
    Imaging,
    Location,
    Network,
    Organization,
    Override,
    Pms,
    PmsProduct,
    Staff,
    Workstation,
)
from golive.tasks.planning.readiness import (
    CRITERIA,
    Factor,
    Tier,
    matrix_rows,
    parse_version,
    score_champion,
    score_it,
    score_location,
    score_organization,
    score_staff,
    score_tech_stack,
    score_volume,
    tier_for,
    versions_behind,
)

RELEASES = {"opendental": ("22.1", "22.4", "23.1", "23.2", "23.3", "23.4")}


def best(**changes: Any) -> Location:
    """A location scoring 5 on every factor; tests change one input at a time."""
    base = Location(
        id="x", name="X", region="r", timezone="UTC",
        patients_per_day=60, implant_share=0.25, ortho_share=0.10, monthly_revenue=100_000,
        it_support="onsite",
        pms=Pms(PmsProduct.OPENDENTAL, "23.4.5", api_enabled=True, integrations_stable=True, middleware=False),
        imaging=Imaging(cbct=Device("Planmeca"), ios=Device("iTero")),
        network=Network("fiber", 200, 20),
        workstations=(Workstation(age_years=1),),
        staff=Staff(0.05, "proactive", 0.95),
        champion=Champion("committed", "committed", previous_experience=True),
    )
    return replace(base, **changes)


def test_best_location_scores_25() -> None:
    s = score_location(best(), RELEASES)
    assert [s.score(f) for f in Factor] == [5, 5, 5, 5, 5]
    assert s.composite == 25 and s.tier is Tier.PILOT_READY and s.complete


# -- IT --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connection", "mbps", "row"),
    [("fiber", 100, 5), ("fiber", 99.9, 4), ("cable", 150, 4), ("cable", 50, 4), ("cable", 49.9, 3),
     ("dsl", 25, 3), ("dsl", 24.9, 2), ("dsl", 1, 2)],
)
def test_it_internet_rows(connection: str, mbps: float, row: int) -> None:
    assert score_it(best(network=Network(connection, mbps, 20)), RELEASES).score == row


def test_it_unreliable_internet_is_row_1() -> None:
    assert score_it(best(network=Network("fiber", 500, 20, reliable=False)), RELEASES).score == 1


@pytest.mark.parametrize(
    ("age", "row"), [(0, 5), (1.99, 5), (2, 4), (2.99, 4), (3, 3), (3.99, 3), (4, 2), (5, 2), (5.01, 1), (9, 1)]
)
def test_it_workstation_age_rows(age: float, row: int) -> None:
    assert score_it(best(workstations=(Workstation(age_years=age),)), RELEASES).score == row


def test_it_oldest_workstation_decides() -> None:
    ws = (Workstation(count=6, age_years=1), Workstation(count=1, age_years=4.5))
    s = score_it(best(workstations=ws), RELEASES)
    assert s.score == 2 and s.decided_by[0].value == "oldest 4.5 years"


@pytest.mark.parametrize(
    ("version", "row"),
    [("23.4.5", 5), ("23.3.1", 4), ("23.2.17", 3), ("23.1", 2), ("22.1.3", 2), ("21.4.9", 1), ("unknown", 1)],
)
def test_it_pms_currency_rows(version: str, row: int) -> None:
    pms = Pms(PmsProduct.OPENDENTAL, version, api_enabled=True, integrations_stable=True)
    assert score_it(best(pms=pms), RELEASES).score == row


@pytest.mark.parametrize(("support", "row"), [("onsite", 5), ("same_day", 5), ("next_day", 3), ("slower", 2)])
def test_it_support_rows(support: str, row: int) -> None:
    assert score_it(best(it_support=support), RELEASES).score == row


def test_conflict_rule_lowest_row_wins_and_names_the_input() -> None:
    # Fiber internet (row 5) but a PMS two versions behind (row 3): the factor scores 3.
    pms = Pms(PmsProduct.OPENDENTAL, "23.2.1", api_enabled=True, integrations_stable=True)
    s = score_it(best(pms=pms), RELEASES)
    assert s.score == 3
    assert [r.input for r in s.decided_by] == ["PMS"]
    assert s.criterion == CRITERIA[Factor.IT][3]
    assert "PMS opendental 23.2.1 → row 3" in s.explain()
    assert {r.row for r in s.inputs} == {5, 3}


# -- Staff -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("turnover", "row"),
    [(0.0, 5), (0.099, 5), (0.10, 4), (0.199, 4), (0.20, 3), (0.299, 3), (0.30, 2), (0.40, 2), (0.401, 1)],
)
def test_staff_turnover_rows(turnover: float, row: int) -> None:
    assert score_staff(best(staff=Staff(turnover, "proactive", 0.9))).score == row


@pytest.mark.parametrize(
    ("history", "row"), [("proactive", 5), ("neutral", 4), ("mixed", 3), ("struggled", 2), ("failed", 1)]
)
def test_staff_adoption_rows(history: str, row: int) -> None:
    assert score_staff(best(staff=Staff(0.05, history, 0.9))).score == row


@pytest.mark.parametrize(("completion", "row"), [(1.0, 5), (0.70, 5), (0.699, 2), (0.2, 2)])
def test_staff_training_completion_rows(completion: float, row: int) -> None:
    assert score_staff(best(staff=Staff(0.05, "proactive", completion))).score == row


# -- Volume ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ppd", "row"), [(80, 5), (50, 5), (49.9, 3), (30, 3), (29.9, 2), (15, 2), (14.9, 1), (0, 1)]
)
def test_volume_patients_rows(ppd: float, row: int) -> None:
    assert score_volume(best(patients_per_day=ppd, implant_share=0.3, ortho_share=0.1)).score == row


@pytest.mark.parametrize(
    ("implant", "ortho", "row"),
    [(0.2, 0.101, 5), (0.2, 0.10, 4), (0.1, 0.05, 4), (0.1, 0.049, 2), (0.03, 0.02, 2), (0.03, 0.019, 1)],
)
def test_volume_specialty_mix_rows(implant: float, ortho: float, row: int) -> None:
    assert score_volume(best(patients_per_day=60, implant_share=implant, ortho_share=ortho)).score == row


def test_volume_moderate_volume_with_high_mix_is_row_3() -> None:
    assert score_volume(best(patients_per_day=35, implant_share=0.3, ortho_share=0.2)).score == 3


# -- Tech stack ------------------------------------------------------------------------------


def _pms(version: str = "23.4.5", **kw: Any) -> Pms:
    return Pms(PmsProduct.OPENDENTAL, version, **{"api_enabled": True, "integrations_stable": True, **kw})


@pytest.mark.parametrize(
    ("changes", "row"),
    [
        ({}, 5),
        ({"pms": _pms(api_enabled=False)}, 4),
        ({"pms": _pms(integrations_stable=False)}, 4),
        ({"pms": _pms(middleware=True)}, 3),
        ({"imaging": Imaging(cbct=Device("Vatech"), ios=Device("DEXIS"))}, 3),
        ({"imaging": Imaging(cbct=Device("Vatech"), ios=None)}, 5),
        ({"imaging": Imaging(cbct=Device("Acteon"))}, 2),
        ({"imaging": Imaging(cbct=None)}, 2),
        ({"pms": _pms("21.4.2")}, 2),
        ({"pms": _pms("21.4.2"), "imaging": Imaging(cbct=Device("Acteon"))}, 1),
    ],
)
def test_tech_stack_rows(changes: dict[str, Any], row: int) -> None:
    assert score_tech_stack(best(**changes)).score == row


def test_tech_stack_makers_match_case_insensitively() -> None:
    assert score_tech_stack(best(imaging=Imaging(cbct=Device("i-cat"), ios=Device("3shape")))).score == 5


def test_dentrix_and_eaglesoft_minimums() -> None:
    assert score_tech_stack(best(pms=Pms(PmsProduct.DENTRIX, "G7.3", True, True))).score == 2
    assert score_tech_stack(best(pms=Pms(PmsProduct.DENTRIX, "G7.4", True, True))).score == 5
    assert score_tech_stack(best(pms=Pms(PmsProduct.EAGLESOFT, "20.10", True, True))).score == 2
    assert score_tech_stack(best(pms=Pms(PmsProduct.EAGLESOFT, "21.00", True, True))).score == 5


# -- Champion --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "manager", "experience", "peer", "row"),
    [
        ("committed", "committed", True, True, 5),
        ("committed", "committed", False, True, 4),
        ("committed", "none", False, True, 4),
        ("none", "committed", True, True, 4),
        ("committed", "none", False, False, 3),
        ("potential", "none", False, True, 3),
        ("none", "potential", False, True, 3),
        ("none", "none", False, True, 2),
        ("committed", "detractor", True, True, 1),
        ("detractor", "committed", False, True, 1),
        ("committed", "vacant", True, True, 1),
    ],
)
def test_champion_rows(provider: str, manager: str, experience: bool, peer: bool, row: int) -> None:
    assert score_champion(best(champion=Champion(provider, manager, experience, peer))).score == row


# -- Overrides, missing data, tiers ------------------------------------------------------------


def test_override_replaces_score_and_keeps_reason_and_computed() -> None:
    loc = best(champion=Champion("none", "none"), overrides={"champion": Override(4, "New manager committed in writing.")})
    s = score_champion(loc)
    assert (s.score, s.computed, s.overridden) == (4, 2, True)
    assert s.criterion == CRITERIA[Factor.CHAMPION][4]
    assert s.explain() == "override 4 (computed 2): New manager committed in writing"


def test_missing_inputs_are_listed_and_never_guessed() -> None:
    s = score_location(best(network=None, staff=None), RELEASES)
    assert s.score(Factor.IT) == 5  # from the inputs present
    assert "it.network" in s.missing
    assert s.score(Factor.STAFF) is None
    assert s.composite is None and s.tier is None and not s.complete


def test_override_scores_a_factor_without_inputs() -> None:
    s = score_location(best(staff=None, overrides={"staff": Override(3, "HR survey pending; manager's estimate")}), RELEASES)
    assert s.score(Factor.STAFF) == 3 and s.composite == 23


@pytest.mark.parametrize(
    ("composite", "tier"),
    [(25, 1), (21, 1), (20, 2), (16, 2), (15, 3), (11, 3), (10, 4), (6, 4), (5, 5), (1, 5)],
)
def test_tier_bounds(composite: int, tier: int) -> None:
    assert tier_for(composite) == Tier(tier)


def test_versions() -> None:
    assert parse_version("G7.4") == (7, 4)
    assert parse_version("Eaglesoft 21.20") == (21, 20)
    assert parse_version("23.2.17") == (23, 2, 17)
    with pytest.raises(ValueError):
        parse_version("latest")
    assert versions_behind(PmsProduct.OPENDENTAL, "23.4.99", RELEASES["opendental"]) == 0
    assert versions_behind(PmsProduct.OPENDENTAL, "23", RELEASES["opendental"]) == 4


# -- The playbook's sample matrix --------------------------------------------------------------

PLAYBOOK_MATRIX = {
    "Downtown Metro": (5, 4, 5, 4, 5, 23, 1),
    "Suburban West": (4, 4, 4, 5, 4, 21, 1),
    "Northside Family": (3, 5, 3, 4, 4, 19, 2),
    "Eastside Specialty": (4, 3, 5, 3, 3, 18, 2),
    "Rural Clinic": (2, 4, 2, 3, 3, 14, 3),
}


def test_playbook_sample_matrix_is_reproduced(acme: Organization) -> None:
    rows = {r["location"]: r for r in matrix_rows(score_organization(acme))}
    for name, expected in PLAYBOOK_MATRIX.items():
        r = rows[name]
        assert (r["it"], r["staff"], r["volume"], r["tech_stack"], r["champion"], r["total"], r["tier"]) == expected, name


def test_example_group_covers_every_tier_and_an_unscored_location(acme: Organization) -> None:
    scores = score_organization(acme)
    assert {s.tier for s in scores} == {*Tier, None}
    assert {s.location_id for s in scores if s.composite is None} == {"bayview"}
    old_town = next(s for s in scores if s.location_id == "old-town")
    assert old_town.composite == 5
    hillcrest = next(s for s in scores if s.location_id == "hillcrest")
    assert hillcrest.factors[Factor.CHAMPION].overridden and hillcrest.composite == 18


def test_matrix_is_sorted_readiest_first_with_ties_by_name(acme: Organization) -> None:
    rows = matrix_rows(score_organization(acme))
    totals = [r["total"] or 0 for r in rows]
    assert totals == sorted(totals, reverse=True)
    tied = [r["location"] for r in rows if r["total"] == 21]
    assert tied == sorted(tied) == ["Harbor Point", "Kingsbridge", "Suburban West"]


def test_scoring_only_some_locations(acme: Organization) -> None:
    assert [s.location_id for s in score_organization(acme, ["rural-clinic", "downtown-metro"])] == [
        "downtown-metro", "rural-clinic"]
