"""Wave plan: the pilot's rules, tie-breaks, alternatives when rules fail, waves 2-3, deferred."""

from __future__ import annotations

from dataclasses import replace

from golive.tasks.planning.organization import Champion, Organization, ProviderExperience
from golive.tasks.planning.readiness import score_organization
from golive.tasks.planning.waves import PilotRules, plan_waves


def test_acme_pilot_follows_every_rule(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme))
    p = plan.pilot
    assert p.locations == ("lakeview-implant", "riverside-ortho", "harbor-point")
    assert p.all_rules_met and not p.proposals
    excluded = {e.location_id: e.reasons for e in p.excluded}
    assert excluded["downtown-metro"] == ("highest-revenue location in the group (protect the downside)",)
    assert "not champion-ready" in excluded["oak-park"][0]
    # Harbor Point and Suburban West tie on everything but revenue; the smaller one is chosen.
    assert p.notes == ("Tie: Harbor Point chosen over Suburban West on equal rules, regions, size and readiness, "
                       "by lower revenue (manageable risk).",)


def test_acme_waves_and_deferred(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme))
    assert plan.waves[2][:4] == ("downtown-metro", "oak-park", "kingsbridge", "suburban-west")
    assert len(plan.waves[2]) == 12 and len(plan.waves[3]) == 6
    assert plan.waves[3][0] == "willow-creek"  # wave 3 grouped by region (central first)
    deferred = {d.location_id: d for d in plan.deferred}
    assert set(deferred) == {"meadowbrook", "valley-view", "old-town", "bayview"}
    assert deferred["bayview"].tier is None and deferred["bayview"].fix[0].startswith("collect data:")
    assert any("Existing Tech Stack Compatibility 1/5" in f for f in deferred["old-town"].fix)
    every = [i for ids in plan.waves.values() for i in ids] + list(deferred)
    assert sorted(every) == sorted(loc.id for loc in acme.locations)  # each location exactly once


def _without_ortho(org: Organization) -> Organization:
    locs = tuple(replace(loc, ortho_share=min(loc.ortho_share or 0, 0.05)) for loc in org.locations)
    return replace(org, locations=locs)


def test_unmet_rule_is_named_with_the_best_alternative(acme: Organization) -> None:
    org = _without_ortho(acme)
    plan = plan_waves(org, score_organization(org))
    failed = [r for r in plan.pilot.rules if not r.met]
    assert [r.rule for r in failed] == ["high-ortho location"]
    assert not plan.pilot.all_rules_met
    assert plan.pilot.proposals == (
        "Rule 'high-ortho location' cannot be met by any Tier 1–2 location (ortho share ≥ 15%: none).",
    )


def test_unmet_rule_proposes_a_swap_from_outside_the_candidates(acme: Organization) -> None:
    # Riverside (the only high-ortho Tier 1) loses its champions: the plan proposes it anyway, with why.
    locs = tuple(
        replace(loc, champion=Champion("potential", "none")) if loc.id == "riverside-ortho" else loc
        for loc in acme.locations
    )
    org = replace(acme, locations=locs)
    plan = plan_waves(org, score_organization(org))
    assert "riverside-ortho" not in plan.pilot.locations
    (proposal,) = plan.pilot.proposals
    assert proposal.startswith("Rule 'high-ortho location' not met")
    assert "swap in Riverside Orthodontics & Family (composite 20, Tier 2, champion score 3)" in proposal


def test_provider_mix_rule(acme: Organization) -> None:
    locs = tuple(replace(loc, provider_experience=ProviderExperience(experienced=2)) for loc in acme.locations)
    org = replace(acme, locations=locs)
    plan = plan_waves(org, score_organization(org))
    rule = next(r for r in plan.pilot.rules if r.rule == "experienced and newer providers")
    assert not rule.met and rule.detail.endswith("0 newer providers")


def test_too_few_candidates_relaxes_in_a_fixed_order(acme: Organization) -> None:
    # Only Downtown Metro (highest revenue) and Oak Park (no champion) stay Tier 1-ready.
    keep = {"downtown-metro", "oak-park"}
    locs = tuple(loc if loc.id in keep or loc.id == "old-town" else replace(loc, champion=Champion("detractor", "vacant"))
                 for loc in acme.locations)
    org = replace(acme, locations=locs)
    plan = plan_waves(org, score_organization(org))
    assert plan.pilot.relaxed == ("champion-ready", "not highest revenue")
    assert set(plan.pilot.locations) == keep
    assert plan.pilot.proposals[0].startswith("Fewer than 2 locations meet every pilot rule; relaxed: champion-ready, "
                                              "not highest revenue")


def test_pilot_size_bounds(acme: Organization) -> None:
    plan = plan_waves(acme, score_organization(acme), PilotRules(min_size=2, max_size=2))
    assert len(plan.pilot.locations) == 2 and plan.pilot.all_rules_met
