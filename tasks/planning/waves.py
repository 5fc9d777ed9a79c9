"""The wave plan (playbook sections 3-4): pilot selection with its diversity rules, then waves 2-3.

Wave 1 (pilot): 2-3 Tier 1 locations that are champion-ready (champion score 4+), not the
group's highest-revenue location (protect the downside), with complete data, and together diverse:
different regions where possible, at least one high-implant and one high-ortho location, and a mix
of experienced and newer providers. Among all groups of candidates, the chosen one meets the most
rules, then spans the most regions, then is larger (more representative), then has the higher
total readiness, then the lower total revenue (manageable risk), then the ids sort first.

When a rule cannot be met, the plan says which and why, and proposes the best alternative: a
location outside the candidates that would satisfy the missing rule, or, with fewer than two
candidates, the smallest relaxation (in a fixed order) that yields a pilot. The final pilot is an
executive decision in the playbook; the plan is the proposal.

Wave 2: every other scored Tier 1 and Tier 2 location. Wave 3: Tier 3. Deferred: Tier 4-5 and
locations that cannot be scored, each with the factors to fix.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from golive.tasks.planning.organization import Location, Organization
from golive.tasks.planning.readiness import CRITERIA, Factor, LocationScore, Tier

WAVE_NAMES = {1: "Wave 1: Pilot", 2: "Wave 2: Expansion", 3: "Wave 3: Scale"}


@dataclass(frozen=True)
class PilotRules:
    """Thresholds for the pilot's rules; the playbook names them, the numbers are ours."""

    min_size: int = 2
    max_size: int = 3
    champion_ready: int = 4  # champion factor score that counts as "champion-ready"
    high_implant: float = 0.20  # implant share of revenue that makes a "high-implant" location
    high_ortho: float = 0.15  # ortho share of revenue that makes a "high-ortho" location
    candidate_pool: int = 40  # readiest candidates searched exhaustively (C(40,3) = 9,880 groups)


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    met: bool
    detail: str


@dataclass(frozen=True)
class Exclusion:
    location_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Pilot:
    locations: tuple[str, ...]
    rules: tuple[RuleCheck, ...]
    excluded: tuple[Exclusion, ...] = ()  # Tier 1 locations not eligible, with why
    proposals: tuple[str, ...] = ()  # best alternatives where a rule fails
    relaxed: tuple[str, ...] = ()  # rules relaxed to get a pilot at all
    notes: tuple[str, ...] = ()  # how ties were broken

    @property
    def all_rules_met(self) -> bool:
        return all(r.met for r in self.rules) and not self.relaxed


@dataclass(frozen=True)
class Deferred:
    location_id: str
    tier: int | None
    fix: tuple[str, ...]


@dataclass(frozen=True)
class WavePlan:
    pilot: Pilot
    waves: dict[int, tuple[str, ...]] = field(default_factory=dict)
    deferred: tuple[Deferred, ...] = ()

    def wave_of(self, location_id: str) -> int | None:
        for n, ids in self.waves.items():
            if location_id in ids:
                return n
        return None

    def rows(self, scores: Sequence[LocationScore]) -> list[dict[str, object]]:
        by_id = {s.location_id: s for s in scores}
        out: list[dict[str, object]] = []
        for n in sorted(self.waves):
            for ident in self.waves[n]:
                s = by_id[ident]
                out.append(
                    {"wave": n, "wave_name": WAVE_NAMES[n], "id": ident, "location": s.name, "region": s.region,
                     "total": s.composite, "tier": int(s.tier) if s.tier else None, "notes": ""}
                )
        for d in self.deferred:
            s = by_id[d.location_id]
            out.append(
                {"wave": None, "wave_name": "Deferred", "id": d.location_id, "location": s.name, "region": s.region,
                 "total": s.composite, "tier": d.tier, "notes": "; ".join(d.fix)}
            )
        return out


def _revenue(loc: Location) -> float:
    return loc.monthly_revenue if loc.monthly_revenue is not None else 0.0


def _group_rules(group: Sequence[Location], rules: PilotRules, regions_available: int) -> list[RuleCheck]:
    regions = {loc.region for loc in group}
    want_regions = min(len(group), regions_available)
    implant = [loc.id for loc in group if (loc.implant_share or 0) >= rules.high_implant]
    ortho = [loc.id for loc in group if (loc.ortho_share or 0) >= rules.high_ortho]
    experienced = sum(loc.provider_experience.experienced for loc in group if loc.provider_experience)
    newer = sum(loc.provider_experience.newer for loc in group if loc.provider_experience)
    return [
        RuleCheck(
            "different regions",
            len(regions) >= want_regions,
            f"{len(regions)} region(s) for {len(group)} locations: {', '.join(sorted(regions))}"
            + ("" if len(regions) >= want_regions else f" ({want_regions} possible among candidates)"),
        ),
        RuleCheck(
            "high-implant location",
            bool(implant),
            f"implant share ≥ {rules.high_implant:.0%}: {', '.join(implant) or 'none'}",
        ),
        RuleCheck(
            "high-ortho location",
            bool(ortho),
            f"ortho share ≥ {rules.high_ortho:.0%}: {', '.join(ortho) or 'none'}",
        ),
        RuleCheck(
            "experienced and newer providers",
            experienced > 0 and newer > 0,
            f"{experienced} experienced, {newer} newer providers",
        ),
    ]


def _eligibility(
    s: LocationScore, loc: Location, rules: PilotRules, top_revenue_id: str | None, relaxed: frozenset[str]
) -> list[str]:
    reasons = []
    if s.tier is None:
        reasons.append("not scored")
    elif not (s.tier == Tier.PILOT_READY or (s.tier == Tier.EARLY and "tier 1" in relaxed)):
        reasons.append(f"Tier {int(s.tier)} (pilot needs Tier 1)")
    champ = s.score(Factor.CHAMPION)
    if "champion-ready" not in relaxed and (champ is None or champ < rules.champion_ready):
        reasons.append(f"not champion-ready (champion score {champ}, needs {rules.champion_ready}+)")
    if "not highest revenue" not in relaxed and loc.id == top_revenue_id:
        reasons.append("highest-revenue location in the group (protect the downside)")
    if not s.complete:
        reasons.append("data missing: " + ", ".join(s.missing))
    return reasons


_RELAXATIONS: tuple[tuple[str, ...], ...] = (
    (),
    ("champion-ready",),
    ("not highest revenue",),
    ("champion-ready", "not highest revenue"),
    ("tier 1",),
    ("tier 1", "champion-ready"),
    ("tier 1", "champion-ready", "not highest revenue"),
)


def choose_pilot(org: Organization, scores: Sequence[LocationScore], rules: PilotRules = PilotRules()) -> Pilot:
    by_id = {loc.id: loc for loc in org.locations}
    revenues = [(loc.monthly_revenue, loc.id) for loc in org.locations if loc.monthly_revenue is not None]
    top_revenue_id = max(revenues)[1] if revenues else None
    tier1 = [s for s in scores if s.tier == Tier.PILOT_READY]

    for relax in _RELAXATIONS:
        relaxed = frozenset(relax)
        pool = [s for s in scores if s.tier in (Tier.PILOT_READY, Tier.EARLY)]
        eligible = [s for s in pool if not _eligibility(s, by_id[s.location_id], rules, top_revenue_id, relaxed)]
        if len(eligible) >= rules.min_size:
            break
    else:
        excluded = tuple(
            Exclusion(s.location_id, tuple(_eligibility(s, by_id[s.location_id], rules, top_revenue_id, frozenset())))
            for s in tier1
        )
        return Pilot(
            locations=(),
            rules=(RuleCheck("at least 2 candidates", False, f"{len(eligible)} Tier 1–2 location(s) with complete data"),),
            excluded=excluded,
            proposals=("No pilot is possible: complete the missing data and raise readiness of the best Tier 2 locations.",),
            relaxed=("all",),
        )

    excluded = tuple(
        Exclusion(s.location_id, tuple(r))
        for s in tier1
        if (r := _eligibility(s, by_id[s.location_id], rules, top_revenue_id, frozenset()))
    )
    eligible.sort(key=lambda s: (-(s.composite or 0), _revenue(by_id[s.location_id]), s.location_id))
    pool_ids = [s.location_id for s in eligible[: rules.candidate_pool]]
    regions_available = len({by_id[i].region for i in pool_ids})
    composite = {s.location_id: s.composite or 0 for s in eligible}

    best_key: tuple[object, ...] | None = None
    best: tuple[str, ...] = ()
    best_checks: list[RuleCheck] = []
    runner_up: tuple[tuple[object, ...], tuple[str, ...]] | None = None
    for size in range(min(rules.max_size, len(pool_ids)), rules.min_size - 1, -1):
        for combo in itertools.combinations(sorted(pool_ids), size):
            group = [by_id[i] for i in combo]
            checks = _group_rules(group, rules, regions_available)
            key = (
                sum(c.met for c in checks),
                len({g.region for g in group}),
                size,
                sum(composite[i] for i in combo),
                -sum(_revenue(g) for g in group),
            )
            if best_key is None or key > best_key:
                if best_key is not None:
                    runner_up = (best_key, best)
                best_key, best, best_checks = key, combo, checks
            elif runner_up is None or key > runner_up[0]:
                runner_up = (key, combo)

    proposals = _proposals(org, scores, best, best_checks, rules, top_revenue_id)
    if relax:
        proposals = (
            f"Fewer than {rules.min_size} locations meet every pilot rule; relaxed: {', '.join(relax)}. "
            "Best alternative shown; needs an executive decision.",
            *proposals,
        )
    notes: tuple[str, ...] = ()
    if runner_up is not None and best_key is not None and runner_up[0][:4] == best_key[:4]:
        out_, in_ = sorted(set(runner_up[1]) - set(best)), sorted(set(best) - set(runner_up[1]))
        why = "lower revenue (manageable risk)" if runner_up[0][4] != best_key[4] else "id order"
        notes = (
            f"Tie: {', '.join(by_id[i].name for i in in_)} chosen over {', '.join(by_id[i].name for i in out_)} "
            f"on equal rules, regions, size and readiness, by {why}.",
        )
    ordered = tuple(sorted(best, key=lambda i: (-composite[i], i)))
    return Pilot(ordered, tuple(best_checks), excluded, proposals, tuple(relax), notes)


def _proposals(
    org: Organization,
    scores: Sequence[LocationScore],
    chosen: Sequence[str],
    checks: Sequence[RuleCheck],
    rules: PilotRules,
    top_revenue_id: str | None,
) -> tuple[str, ...]:
    """For each failed group rule: why, and the best location outside the pilot that would fix it."""
    out: list[str] = []
    by_id = {loc.id: loc for loc in org.locations}
    others = sorted(
        (s for s in scores if s.location_id not in chosen and s.tier in (Tier.PILOT_READY, Tier.EARLY) and s.complete),
        key=lambda s: (-(s.composite or 0), s.location_id),
    )
    chosen_regions = {by_id[i].region for i in chosen}
    fixes = {
        "different regions": lambda loc: loc.region not in chosen_regions,
        "high-implant location": lambda loc: (loc.implant_share or 0) >= rules.high_implant,
        "high-ortho location": lambda loc: (loc.ortho_share or 0) >= rules.high_ortho,
        "experienced and newer providers": lambda loc: bool(
            loc.provider_experience and loc.provider_experience.experienced and loc.provider_experience.newer
        ),
    }
    for check in checks:
        if check.met:
            continue
        fix = next((s for s in others if fixes[check.rule](by_id[s.location_id])), None)
        if fix is None:
            out.append(f"Rule '{check.rule}' cannot be met by any Tier 1–2 location ({check.detail}).")
            continue
        champ = fix.score(Factor.CHAMPION)
        caveats = []
        if fix.tier != Tier.PILOT_READY:
            caveats.append(f"Tier {int(fix.tier)}" if fix.tier else "unscored")
        if champ is not None and champ < rules.champion_ready:
            caveats.append(f"champion score {champ}")
        if fix.location_id == top_revenue_id:
            caveats.append("highest revenue")
        action = "swap in" if len(chosen) >= rules.max_size else "add"
        out.append(
            f"Rule '{check.rule}' not met ({check.detail}). Best alternative: {action} {fix.name} "
            f"(composite {fix.composite}{', ' + ', '.join(caveats) if caveats else ''})."
        )
    return tuple(out)


def fixes_for(score: LocationScore) -> tuple[str, ...]:
    """What to fix before a location can deploy: missing data, then factors at 2 or below."""
    out: list[str] = []
    unscored = [f for f in score.factors.values() if f.score is None]
    if unscored:
        out.append("collect data: " + ", ".join(f"{f.factor.label} ({', '.join(f.missing)})" for f in unscored))
    for f in score.weakest():
        if f.score is not None and f.score <= 2:
            target = CRITERIA[f.factor][f.score + 1]
            why = "; ".join(f"{r.input} {r.value}" for r in f.decided_by) or f.explain()
            out.append(f"{f.factor.label} {f.score}/5 ({why}); next row: {target}")
    if not out:
        weakest = score.weakest(1)[0]
        out.append(f"raise {weakest.factor.label} ({weakest.score}/5)")
    return tuple(out)


def plan_waves(
    org: Organization, scores: Sequence[LocationScore], rules: PilotRules = PilotRules()
) -> WavePlan:
    pilot = choose_pilot(org, scores, rules)
    by_id = {s.location_id: s for s in scores}
    in_pilot = set(pilot.locations)
    wave2 = [s for s in scores if s.location_id not in in_pilot and s.tier in (Tier.PILOT_READY, Tier.EARLY)]
    wave3 = [s for s in scores if s.location_id not in in_pilot and s.tier == Tier.STANDARD]
    deferred = [s for s in scores if s.location_id not in in_pilot and (s.tier is None or s.tier >= Tier.NEEDS_PREPARATION)]
    # Wave 2 readiest first; wave 3 grouped by region (regional managers coordinate it), readiest first.
    wave2.sort(key=lambda s: (-(s.composite or 0), s.name))
    wave3.sort(key=lambda s: (s.region, -(s.composite or 0), s.name))
    deferred.sort(key=lambda s: (s.composite if s.composite is not None else -1, s.name), reverse=True)
    return WavePlan(
        pilot=pilot,
        waves={1: pilot.locations, 2: tuple(s.location_id for s in wave2), 3: tuple(s.location_id for s in wave3)},
        deferred=tuple(
            Deferred(s.location_id, int(s.tier) if s.tier else None, fixes_for(by_id[s.location_id])) for s in deferred
        ),
    )


def pilot_rows(plan: WavePlan) -> list[dict[str, object]]:
    return [{"rule": r.rule, "met": r.met, "detail": r.detail} for r in plan.pilot.rules]


def explain_pilot(plan: WavePlan, names: dict[str, str] | None = None) -> list[str]:
    """Plain-language lines for briefs: chosen pilot, rules, exclusions, alternatives."""
    names = names or {}
    p = plan.pilot
    lines = [f"Pilot: {', '.join(names.get(i, i) for i in p.locations) or 'none'}"]
    lines += [f"{'✓' if r.met else '✗'} {r.rule}: {r.detail}" for r in p.rules]
    lines += [f"Not eligible: {names.get(e.location_id, e.location_id)} — {'; '.join(e.reasons)}" for e in p.excluded]
    lines += list(p.proposals) + list(p.notes)
    return lines

