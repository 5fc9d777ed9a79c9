"""Location readiness scoring: the playbook's five factors (section 3), composite and tier.

Each factor is scored 1-5 from a location's raw inputs by the playbook's criteria tables.

The conflict rule (one rule, every factor): each input points at the best row whose criterion
its value satisfies, and the factor score is the LOWEST row any input points at. Fiber internet
(row 5) with a PMS two versions behind (row 3) scores 3, and the result names the PMS as the
deciding input. For the two factors whose rows describe combinations rather than independent
inputs (tech stack, champion) the rows are checked from 1 upward and the first row whose
condition holds decides, which is the same rule read the other way.

Where a table gives overlapping ranges ("2-3 years", "3-4 years"), a value on the shared bound
belongs to the row where it is the lower bound (3.0 years is row 3); the table's open ends are
taken literally ("<10%" excludes 10%, ">30%" excludes 30%, "50+" includes 50).

Missing inputs are never guessed: a factor is scored from the inputs present and lists what is
missing; a factor with no input at all has no score, and neither does the composite. An explicit
override replaces the computed score and carries its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from golive.tasks.planning.organization import Location, Organization, PmsProduct

# Thresholds the playbook leaves as words; the numbers are ours and documented here.
TRAINING_ADEQUATE = 0.70  # "adequate training completion" vs "training completion issues"
HIGH_VOLUME = 50.0  # patients/day, "High volume (50+ patients/day)"
MODERATE_VOLUME = 30.0  # "Moderate volume (30-50 patients/day)"
LOW_MODERATE_VOLUME = 15.0  # below this is "low volume"
MINIMAL_SPECIALTY = 0.05  # below this the practice is "primarily hygiene-recall"

PMS_MINIMUM: dict[PmsProduct, tuple[int, ...]] = {
    PmsProduct.DENTRIX: (7, 4),  # Dentrix G7.4+ required (playbook section 5)
    PmsProduct.EAGLESOFT: (21, 0),  # Eaglesoft 21.0+ required
    PmsProduct.OPENDENTAL: (22, 1),  # Open Dental 22.1+ recommended
}
PMS_MINIMUM_TEXT = {PmsProduct.DENTRIX: "G7.4", PmsProduct.EAGLESOFT: "21.0", PmsProduct.OPENDENTAL: "22.1"}

# Release trains, oldest first, used when the organization file gives none. Illustrative: keep
# `standards.pms_releases` in the organization file current from the vendors' release notes.
DEFAULT_PMS_RELEASES: dict[str, tuple[str, ...]] = {
    "dentrix": ("G6.5", "G6.6", "G7.0", "G7.1", "G7.2", "G7.3", "G7.4", "G7.5", "G7.6", "G7.7", "G7.8"),
    "eaglesoft": ("20.00", "21.00", "21.20", "22.00", "22.10", "23.00", "24.00", "24.10"),
    "opendental": (
        "21.4", "22.1", "22.2", "22.3", "22.4", "23.1", "23.2", "23.3", "23.4",
        "24.1", "24.2", "24.3", "24.4", "25.1", "25.2", "25.3", "25.4",
    ),
}  # fmt: skip

SUPPORTED_CBCT = ("Carestream", "Planmeca", "Sirona", "Vatech", "i-CAT")
SUPPORTED_IOS = ("iTero", "3Shape", "Medit")


class Factor(str, Enum):
    IT = "it"
    STAFF = "staff"
    VOLUME = "volume"
    TECH_STACK = "tech_stack"
    CHAMPION = "champion"

    @property
    def label(self) -> str:
        return FACTOR_TITLES[self]


FACTOR_TITLES = {
    Factor.IT: "IT Infrastructure Maturity",
    Factor.STAFF: "Staff Tenure and Adaptability",
    Factor.VOLUME: "Patient Volume Impact",
    Factor.TECH_STACK: "Existing Tech Stack Compatibility",
    Factor.CHAMPION: "Local Champion Availability",
}

# The playbook's criteria tables, verbatim, so every score can show the row that decided it.
CRITERIA: dict[Factor, dict[int, str]] = {
    Factor.IT: {
        5: "Fiber internet (100+ Mbps), workstations <2 years old, current PMS version, IT support on-site or same-day",
        4: "Broadband (50–100 Mbps), workstations 2–3 years old, PMS within one version of current",
        3: "Broadband (25–50 Mbps), workstations 3–4 years old, PMS two versions behind, IT support next-day",
        2: "DSL/cable (<25 Mbps), workstations 4–5 years old, PMS significantly outdated",
        1: "Unreliable internet, workstations >5 years old, legacy PMS requiring upgrade before integration",
    },
    Factor.STAFF: {
        5: "<10% annual turnover, history of successful tech adoption, staff proactively requests new tools",
        4: "10–20% turnover, neutral tech adoption history, adequate training completion rates",
        3: "20–30% turnover, mixed tech adoption results, some resistance patterns",
        2: "30–40% turnover, previous tech rollout struggles, training completion issues",
        1: ">40% turnover, active resistance to change, failed prior technology implementations",
    },
    Factor.VOLUME: {
        5: "High volume (50+ patients/day) with high implant/ortho mix (>30% of revenue)",
        4: "High volume with moderate specialty mix (15–30%)",
        3: "Moderate volume (30–50 patients/day) with moderate specialty mix",
        2: "Low-moderate volume with low specialty mix",
        1: "Low volume or primarily hygiene-recall practice with minimal treatment planning needs",
    },
    Factor.TECH_STACK: {
        5: "Promaton-validated PMS + imaging system, APIs enabled, existing integrations stable",
        4: "Promaton-compatible PMS + imaging, minor configuration needed",
        3: "Compatible systems but requires middleware or workarounds",
        2: "One major system requires upgrade or replacement",
        1: "Multiple systems incompatible, significant pre-work required",
    },
    Factor.CHAMPION: {
        5: "Tech-forward provider AND office manager both committed, previous champion experience",
        4: "One strong champion (provider or manager) with peer influence",
        3: "Potential champion identified but not yet committed",
        2: "No obvious champion, would need to develop one",
        1: "Leadership vacuum or active detractors in key positions",
    },
}

CONFLICT_RULE = (
    "Each input points at the best row its value satisfies; the factor score is the lowest row any "
    "input points at (a value on a shared range bound belongs to the row where it is the lower bound)."
)


class Tier(int, Enum):
    PILOT_READY = 1
    EARLY = 2
    STANDARD = 3
    NEEDS_PREPARATION = 4
    DEFERRED = 5

    @property
    def label(self) -> str:
        return TIER_LABELS[self][0]

    @property
    def recommendation(self) -> str:
        return TIER_LABELS[self][1]


TIER_LABELS = {
    Tier.PILOT_READY: ("Tier 1: Pilot Ready", "Priority candidate for Wave 1"),
    Tier.EARLY: ("Tier 2: Early Deployment", "Strong candidate for Wave 2"),
    Tier.STANDARD: ("Tier 3: Standard Deployment", "Wave 3 with preparation"),
    Tier.NEEDS_PREPARATION: ("Tier 4: Needs Preparation", "Address gaps before deployment"),
    Tier.DEFERRED: ("Tier 5: Deferred", "Significant infrastructure/culture work required"),
}


def tier_for(composite: int) -> Tier:
    """Composite 5-25 to tier: 21-25 T1, 16-20 T2, 11-15 T3, 6-10 T4, 1-5 T5."""
    if composite >= 21:
        return Tier.PILOT_READY
    if composite >= 16:
        return Tier.EARLY
    if composite >= 11:
        return Tier.STANDARD
    if composite >= 6:
        return Tier.NEEDS_PREPARATION
    return Tier.DEFERRED


@dataclass(frozen=True)
class InputRow:
    """One input's reading: the best row its value satisfies, and why."""

    input: str
    value: str
    row: int
    why: str


@dataclass(frozen=True)
class FactorScore:
    factor: Factor
    score: int | None
    criterion: str  # the criteria-table row that decided it (or the override)
    decided_by: tuple[InputRow, ...] = ()  # the input(s) at the lowest row
    inputs: tuple[InputRow, ...] = ()
    missing: tuple[str, ...] = ()
    computed: int | None = None  # the score before an override
    override_reason: str | None = None

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    def explain(self) -> str:
        if self.score is None:
            return f"not scored: no input ({', '.join(self.missing)})"
        if self.override_reason:
            was = f"computed {self.computed}" if self.computed is not None else "not computable"
            return f"override {self.score} ({was}): {self.override_reason.rstrip('.')}"
        why = "; ".join(f"{r.input} {r.value} → row {r.row}" for r in self.decided_by)
        text = f"row {self.score}: {why}" if why else f"row {self.score}"
        if self.missing:
            text += f" (missing: {', '.join(self.missing)})"
        return text


@dataclass(frozen=True)
class LocationScore:
    location_id: str
    name: str
    region: str
    factors: dict[Factor, FactorScore] = field(default_factory=dict)

    @property
    def composite(self) -> int | None:
        scores = [f.score for f in self.factors.values()]
        if any(s is None for s in scores):
            return None
        return sum(s for s in scores if s is not None)

    @property
    def tier(self) -> Tier | None:
        c = self.composite
        return tier_for(c) if c is not None else None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(f"{f.factor.value}.{m}" for f in self.factors.values() for m in f.missing)

    @property
    def complete(self) -> bool:
        return not self.missing

    def score(self, factor: Factor) -> int | None:
        return self.factors[factor].score

    def weakest(self, limit: int = 5) -> tuple[FactorScore, ...]:
        """Factors ordered from weakest, unscored first: what to fix before deployment."""
        ordered = sorted(self.factors.values(), key=lambda f: (f.score if f.score is not None else 0, f.factor.value))
        return tuple(ordered[:limit])

    def row(self) -> dict[str, object]:
        """A flat row for tables (the scoring matrix)."""
        t = self.tier
        return {
            "location": self.name,
            "id": self.location_id,
            "region": self.region,
            "it": self.score(Factor.IT),
            "staff": self.score(Factor.STAFF),
            "volume": self.score(Factor.VOLUME),
            "tech_stack": self.score(Factor.TECH_STACK),
            "champion": self.score(Factor.CHAMPION),
            "total": self.composite,
            "tier": int(t) if t is not None else None,
            "notes": "; ".join(
                [f"{f.factor.value}: {f.explain()}" for f in self.factors.values() if f.overridden]
                + ([f"missing {', '.join(self.missing)}"] if self.missing else [])
            ),
        }


# ---------------------------------------------------------------------------------------------
# Version arithmetic


_VERSION = re.compile(r"(\d+(?:\.\d+)*)")


def parse_version(text: str) -> tuple[int, ...]:
    """'G7.4' -> (7, 4); '23.2.17' -> (23, 2, 17); '21.20' -> (21, 20). ValueError if no digits."""
    m = _VERSION.search(text)
    if not m:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in m.group(1).split("."))


def at_least(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    n = max(len(version), len(minimum))
    return version + (0,) * (n - len(version)) >= minimum + (0,) * (n - len(minimum))


def versions_behind(product: PmsProduct, version: str, releases: Sequence[str]) -> int:
    """How many listed release trains are newer than the installed version's train."""
    installed = parse_version(version)
    behind = 0
    for r in releases:
        train = parse_version(r)
        if train > installed[: len(train)] + (0,) * (len(train) - len(installed)):
            behind += 1
    return behind


def meets_pms_minimum(product: PmsProduct, version: str) -> bool:
    return at_least(parse_version(version), PMS_MINIMUM[product])


# ---------------------------------------------------------------------------------------------
# Factor scorers. Each reads raw inputs, returns the per-input rows, and `_decide` applies the rule.


def _decide(
    factor: Factor, rows: list[InputRow], missing: list[str], location: Location
) -> FactorScore:
    override = location.overrides.get(factor.value)
    computed: int | None = min((r.row for r in rows), default=None)
    decided = tuple(r for r in rows if r.row == computed)
    if override is not None:
        return FactorScore(
            factor=factor,
            score=override.score,
            criterion=CRITERIA[factor][override.score],
            decided_by=(),
            inputs=tuple(rows),
            missing=tuple(missing),
            computed=computed,
            override_reason=override.reason,
        )
    return FactorScore(
        factor=factor,
        score=computed,
        criterion=CRITERIA[factor][computed] if computed is not None else "no input to score",
        decided_by=decided,
        inputs=tuple(rows),
        missing=tuple(missing),
        computed=computed,
    )


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def score_it(location: Location, releases: Mapping[str, Sequence[str]] | None = None) -> FactorScore:
    rows: list[InputRow] = []
    missing: list[str] = []
    net = location.network
    if net is None or (net.bandwidth_mbps is None and net.reliable):
        missing.append("network")
    if net is not None:
        bw = net.bandwidth_mbps
        if not net.reliable:
            rows.append(InputRow("internet", "unreliable", 1, "unreliable internet"))
        elif bw is not None:
            conn = net.connection or "broadband"
            if bw >= 100 and conn == "fiber":
                rows.append(InputRow("internet", f"fiber {bw:g} Mbps", 5, "fiber 100+ Mbps"))
            elif bw >= 50:
                rows.append(InputRow("internet", f"{conn} {bw:g} Mbps", 4, "broadband 50–100 Mbps (or 100+ without fiber)"))
            elif bw >= 25:
                rows.append(InputRow("internet", f"{conn} {bw:g} Mbps", 3, "broadband 25–50 Mbps"))
            else:
                rows.append(InputRow("internet", f"{conn} {bw:g} Mbps", 2, "under 25 Mbps"))
    ages = [w.age_years for w in location.workstations if w.age_years is not None]
    if not ages:
        missing.append("workstation age")
    else:
        oldest = max(ages)  # the weakest workstation sets the row
        value = f"oldest {oldest:g} year{'' if oldest == 1 else 's'}"
        if oldest < 2:
            rows.append(InputRow("workstations", value, 5, "<2 years old"))
        elif oldest < 3:
            rows.append(InputRow("workstations", value, 4, "2–3 years old"))
        elif oldest < 4:
            rows.append(InputRow("workstations", value, 3, "3–4 years old"))
        elif oldest <= 5:
            rows.append(InputRow("workstations", value, 2, "4–5 years old"))
        else:
            rows.append(InputRow("workstations", value, 1, ">5 years old"))
    pms = location.pms
    if pms is None or pms.version is None:
        missing.append("PMS version")
    else:
        rows.append(_pms_row(pms.product, pms.version, releases))
    support = location.it_support
    if support is None:
        missing.append("IT support")
    elif support in ("onsite", "same_day"):
        rows.append(InputRow("IT support", support.replace("_", "-"), 5, "on-site or same-day"))
    elif support == "next_day":
        rows.append(InputRow("IT support", "next-day", 3, "next-day"))
    else:
        rows.append(InputRow("IT support", "slower than next-day", 2, "slower than row 3's next-day (extrapolated)"))
    return _decide(Factor.IT, rows, missing, location)


def _pms_row(product: PmsProduct, version: str, releases: Mapping[str, Sequence[str]] | None) -> InputRow:
    label = f"{product.value} {version}"
    try:
        ok = meets_pms_minimum(product, version)
    except ValueError:
        return InputRow("PMS", label, 1, "version not recognised; treat as legacy until verified")
    if not ok:
        return InputRow("PMS", label, 1, f"legacy: below the {PMS_MINIMUM_TEXT[product]} minimum, upgrade before integration")
    trains = (releases or {}).get(product.value) or DEFAULT_PMS_RELEASES[product.value]
    behind = versions_behind(product, version, trains)
    if behind == 0:
        return InputRow("PMS", label, 5, "current version")
    if behind == 1:
        return InputRow("PMS", label, 4, "within one version of current")
    if behind == 2:
        return InputRow("PMS", label, 3, "two versions behind")
    return InputRow("PMS", label, 2, f"{behind} versions behind: significantly outdated")


_ADOPTION = {
    "proactive": (5, "successful adoption, staff proactively request new tools"),
    "neutral": (4, "neutral tech adoption history"),
    "mixed": (3, "mixed results, some resistance"),
    "struggled": (2, "previous tech rollout struggles"),
    "failed": (1, "failed prior implementations, active resistance"),
}


def score_staff(location: Location) -> FactorScore:
    rows: list[InputRow] = []
    missing: list[str] = []
    staff = location.staff
    t = staff.annual_turnover if staff else None
    if t is None:
        missing.append("annual turnover")
    else:
        v = _pct(t)
        if t < 0.10:
            rows.append(InputRow("turnover", v, 5, "<10%"))
        elif t < 0.20:
            rows.append(InputRow("turnover", v, 4, "10–20%"))
        elif t < 0.30:
            rows.append(InputRow("turnover", v, 3, "20–30%"))
        elif t <= 0.40:
            rows.append(InputRow("turnover", v, 2, "30–40%"))
        else:
            rows.append(InputRow("turnover", v, 1, ">40%"))
    history = staff.adoption_history if staff else None
    if history is None:
        missing.append("adoption history")
    else:
        row, why = _ADOPTION[history]
        rows.append(InputRow("adoption history", history, row, why))
    tc = staff.training_completion if staff else None
    if tc is None:
        missing.append("training completion")
    elif tc >= TRAINING_ADEQUATE:
        rows.append(InputRow("training completion", _pct(tc), 5, f"adequate (≥{_pct(TRAINING_ADEQUATE)})"))
    else:
        rows.append(InputRow("training completion", _pct(tc), 2, f"completion issues (<{_pct(TRAINING_ADEQUATE)})"))
    return _decide(Factor.STAFF, rows, missing, location)


def score_volume(location: Location) -> FactorScore:
    rows: list[InputRow] = []
    missing: list[str] = []
    ppd = location.patients_per_day
    if ppd is None:
        missing.append("patients per day")
    else:
        v = f"{ppd:g}/day"
        if ppd >= HIGH_VOLUME:
            rows.append(InputRow("volume", v, 5, "high volume (50+)"))
        elif ppd >= MODERATE_VOLUME:
            rows.append(InputRow("volume", v, 3, "moderate volume (30–50)"))
        elif ppd >= LOW_MODERATE_VOLUME:
            rows.append(InputRow("volume", v, 2, "low-moderate volume"))
        else:
            rows.append(InputRow("volume", v, 1, "low volume"))
    mix = location.specialty_share
    if mix is None:
        missing.append("implant/ortho share")
    else:
        v = f"{_pct(round(mix, 4))} implant+ortho"
        if mix > 0.30:
            rows.append(InputRow("specialty mix", v, 5, "high mix (>30%)"))
        elif mix >= 0.15:
            rows.append(InputRow("specialty mix", v, 4, "moderate mix (15–30%)"))
        elif mix >= MINIMAL_SPECIALTY:
            rows.append(InputRow("specialty mix", v, 2, "low mix"))
        else:
            rows.append(InputRow("specialty mix", v, 1, "minimal: primarily hygiene-recall"))
    return _decide(Factor.VOLUME, rows, missing, location)


def supported_make(make: str, supported: Iterable[str]) -> bool:
    m = make.strip().lower()
    return any(m == s.lower() or m.startswith(s.lower() + " ") for s in supported)


def score_tech_stack(location: Location) -> FactorScore:
    """Rows are combinations, checked from 1 upward: the first that holds decides."""
    missing: list[str] = []
    majors: list[str] = []  # systems needing upgrade or replacement
    workarounds: list[str] = []
    minor: list[str] = []
    pms = location.pms
    if pms is None or pms.version is None:
        missing.append("PMS version")
    else:
        try:
            if not meets_pms_minimum(pms.product, pms.version):
                majors.append(f"PMS {pms.product.value} {pms.version} below {PMS_MINIMUM_TEXT[pms.product]}")
        except ValueError:
            majors.append(f"PMS version {pms.version!r} not recognised")
        if pms.middleware:
            workarounds.append("PMS integration needs middleware")
        if pms.api_enabled is None or pms.integrations_stable is None:
            missing.append("PMS API/integration status")
        if not pms.api_enabled:
            minor.append("PMS API not enabled yet")
        if not pms.integrations_stable:
            minor.append("existing integrations not stable")
    cbct = location.imaging.cbct
    if cbct is None:
        majors.append("no CBCT (acquire a supported unit)")
    elif not supported_make(cbct.make, SUPPORTED_CBCT):
        majors.append(f"CBCT {cbct.make} not supported")
    ios = location.imaging.ios
    if ios is not None and not supported_make(ios.make, SUPPORTED_IOS):
        workarounds.append(f"intraoral scanner {ios.make} not supported (manual export)")

    rows: list[InputRow] = []
    if len(majors) >= 2:
        rows.append(InputRow("systems", "; ".join(majors), 1, "multiple systems incompatible"))
    elif majors:
        rows.append(InputRow("systems", majors[0], 2, "one major system requires upgrade or replacement"))
    elif workarounds:
        rows.append(InputRow("systems", "; ".join(workarounds), 3, "middleware or workarounds"))
    elif minor:
        rows.append(InputRow("systems", "; ".join(minor), 4, "compatible, minor configuration needed"))
    elif pms is not None and pms.version is not None:
        rows.append(InputRow("systems", "supported PMS and imaging, API enabled, integrations stable", 5, "validated"))
    return _decide(Factor.TECH_STACK, rows, missing, location)


def score_champion(location: Location) -> FactorScore:
    """Rows are combinations, checked from 1 upward: the first that holds decides."""
    ch = location.champion
    if ch is None or (ch.provider is None and ch.office_manager is None):
        return _decide(Factor.CHAMPION, [], ["champion status"], location)
    people = {"provider": ch.provider, "office manager": ch.office_manager}
    value = ", ".join(f"{k} {v}" for k, v in people.items() if v)
    statuses = [v for v in people.values() if v]
    if "detractor" in statuses or ch.office_manager == "vacant":
        row, why = 1, "active detractor or vacant key position"
    elif ch.provider == "committed" and ch.office_manager == "committed" and ch.previous_experience:
        row, why = 5, "provider and office manager committed, previous champion experience"
    elif "committed" in statuses and ch.peer_influence:
        row, why = 4, "one strong champion with peer influence"
    elif "committed" in statuses or "potential" in statuses:
        row, why = 3, "potential champion, not yet committed (or without peer influence)"
    else:
        row, why = 2, "no obvious champion"
    missing = [k for k, v in people.items() if v is None]
    return _decide(Factor.CHAMPION, [InputRow("champions", value, row, why)], missing, location)


def score_location(location: Location, releases: Mapping[str, Sequence[str]] | None = None) -> LocationScore:
    factors = {
        Factor.IT: score_it(location, releases),
        Factor.STAFF: score_staff(location),
        Factor.VOLUME: score_volume(location),
        Factor.TECH_STACK: score_tech_stack(location),
        Factor.CHAMPION: score_champion(location),
    }
    return LocationScore(location.id, location.name, location.region, factors)


def score_organization(org: Organization, only: Iterable[str] | None = None) -> tuple[LocationScore, ...]:
    """Score every location (or those in `only`, in the organization's order)."""
    wanted = set(only) if only is not None else None
    if wanted is not None:
        for ident in wanted:
            org.location(ident)  # raises UnknownLocation with a hint
    releases = org.standards.pms_releases or None
    return tuple(
        score_location(loc, releases) for loc in org.locations if wanted is None or loc.id in wanted
    )


def matrix_rows(scores: Iterable[LocationScore]) -> list[dict[str, object]]:
    """The scoring matrix as table rows, readiest first (ties by name)."""
    ordered = sorted(scores, key=lambda s: (-(s.composite or 0), s.name))
    return [s.row() for s in ordered]
