"""Seeded generators: larger dental groups (50, 500 locations) and baseline-metric CSVs.

Everything is drawn from `random.Random(seed)`, so the same seed gives the same group and the
same CSV on every machine. Generated groups pass `schemas/organization.schema.json` and the
semantic checks; their inputs are spread so every tier and every scoring row occurs.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.planning.metrics import catalog
from golive.tasks.planning.organization import Organization, build_organization
from golive.tasks.planning.readiness import DEFAULT_PMS_RELEASES

_PLACES = (
    "Oak", "Maple", "Cedar", "Pine", "Willow", "Birch", "Aspen", "Elm", "Harbor", "River", "Lake", "Hill",
    "Valley", "Summit", "Meadow", "Brook", "Stone", "Granite", "Sunset", "Spring", "Fox", "Eagle", "Bay",
    "Prairie", "Canyon", "Mill", "Bridge", "Park", "Forest", "Glen",
)  # fmt: skip
_SUFFIXES = ("Dental", "Family Dentistry", "Smiles", "Dental Care", "Dental Group", "Dental Studio")
_REGIONS = ("central", "north", "south", "east", "west", "coastal", "mountain", "metro", "lakes", "plains")
_FIRST = ("Alex", "Jordan", "Sam", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Reese")
_LAST = ("Smith", "Lee", "Garcia", "Brown", "Khan", "Novak", "Silva", "Chen", "Moreau", "Okoye", "Ivanova", "Berg")
_CBCT = (("Carestream", "CS 9600"), ("Planmeca", "ProMax 3D Mid"), ("Sirona", "Orthophos SL"),
         ("Vatech", "Green X"), ("i-CAT", "FLX V17"), ("Acteon", "X-Mind Trium"))
_IOS = (("iTero", "Element 5D"), ("3Shape", "TRIOS 5"), ("Medit", "i700"), ("DEXIS", "IS 3800"))
_GPUS = ("NVIDIA GeForce RTX 3060", "NVIDIA GeForce GTX 1660", "NVIDIA RTX A2000", "AMD Radeon RX 6600",
         "NVIDIA GeForce GTX 1650", "Intel UHD Graphics 630")
_OS = ("Windows 11 Pro 64-bit", "Windows 10 Pro 64-bit", "Windows 10 Home 64-bit", "macOS 14")


def generate_organization_doc(n_locations: int, seed: int = 0, name: str | None = None) -> dict[str, Any]:
    """An organization document (plain dict, schema-valid) with `n_locations` locations."""
    rng = random.Random(seed)
    n_regions = max(2, min(len(_REGIONS), n_locations // 8))
    regions = [{"id": r, "name": r.title()} for r in _REGIONS[:n_regions]]
    locations = []
    used: set[str] = set()
    for i in range(n_locations):
        place = f"{rng.choice(_PLACES)} {rng.choice(_PLACES)}" if n_locations > 25 else rng.choice(_PLACES)
        lid = f"{place.lower().replace(' ', '-')}-{i + 1:03d}"
        used.add(lid)
        locations.append(_location(rng, lid, f"{place} {rng.choice(_SUFFIXES)}", regions[i % n_regions]["id"]))
    people: list[dict[str, Any]] = [
        {"name": _person(rng), "roles": [role]}
        for role in ("Board", "CEO", "CFO", "COO", "CDO", "VP of IT", "VP of Clinical", "VP of Ops", "Central IT")
    ]
    people += [{"name": _person(rng), "roles": ["Regional Manager"], "region": r["id"]} for r in regions]
    people += [{"name": _person(rng), "roles": ["Office Manager"], "location": loc["id"]} for loc in locations]
    return {
        "apiVersion": "golive/v1",
        "kind": "Organization",
        "name": name or f"Generated Dental Group {n_locations} (seed {seed})",
        "timezone": "America/Chicago",
        "identity_provider": "okta",
        "sso_protocol": "saml2",
        "provisioning": "scim",
        "hosting": "cloud",
        "standards": {"auto_logout_minutes": 15, "ai_confidence_threshold": 0.85, "units": "metric"},
        "regions": regions,
        "people": people,
        "locations": locations,
    }


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _location(rng: random.Random, lid: str, name: str, region: str) -> dict[str, Any]:
    # One latent "maturity" drives most inputs, so scores correlate as in a real group.
    q = rng.random()
    product = rng.choice(("dentrix", "eaglesoft", "opendental"))
    releases = DEFAULT_PMS_RELEASES[product]
    behind = min(len(releases) - 1, int((1 - q) * 6 * rng.random() + (1 - q) * 2))
    version = releases[len(releases) - 1 - behind]
    if product == "opendental":
        version = f"{version}.{rng.randint(1, 30)}"
    connection: dict[str, Any] = (
        {"base_url": f"https://od-{lid}.example/api/v1", "secret": f"env:OD_{lid.upper().replace('-', '_')}_KEY"}
        if product == "opendental"
        else {"dsn": f"{lid.upper().replace('-', '_')}_{product[:3].upper()}",
              "secret": f"prefect-secret:{product}-{lid}"}
    )
    cbct = _CBCT[rng.randrange(len(_CBCT) - (0 if q < 0.25 else 1))]
    bandwidth = round(max(5.0, rng.gauss(20 + 180 * q, 30)))
    turnover = round(min(0.6, max(0.02, rng.gauss(0.40 - 0.32 * q, 0.06))), 2)
    statuses = ("committed", "potential", "none", "detractor")
    champ_idx = 0 if q > 0.75 else 1 if q > 0.45 else 2 if q > 0.1 else 3
    ppd = max(8, round(rng.gauss(25 + 35 * rng.random(), 8)))
    implant = round(min(0.45, max(0.0, rng.gauss(0.12, 0.07))), 2)
    ortho = round(min(0.4, max(0.0, rng.gauss(0.08, 0.06))), 2)
    loc: dict[str, Any] = {
        "id": lid,
        "name": name,
        "region": region,
        "patients_per_day": ppd,
        "implant_share": implant,
        "ortho_share": ortho,
        "monthly_revenue": int(ppd * rng.uniform(4000, 7000) * (1 + implant + ortho)),
        "provider_experience": {"experienced": rng.randint(0, 3), "mid_career": rng.randint(0, 2),
                                "newer": rng.randint(0, 3)},
        "it_support": rng.choice(("onsite", "same_day")) if q > 0.6 else rng.choice(("next_day", "slower")),
        "pms": {"product": product, "version": version, "api_enabled": q > 0.4 and rng.random() < 0.8,
                "integrations_stable": q > 0.3, "middleware": rng.random() < 0.2, "connection": connection},
        "imaging": {"cbct": {"make": cbct[0], "model": cbct[1]}},
        "network": {"connection": "fiber" if q > 0.6 else rng.choice(("cable", "dsl", "fixed_wireless")),
                    "bandwidth_mbps": bandwidth, "latency_ms": round(rng.uniform(10, 60 + 100 * (1 - q))),
                    "reliable": q > 0.05},
        "workstations": [{
            "count": rng.randint(2, 8), "ram_gb": rng.choice((8, 16, 16, 32)) if q < 0.5 else rng.choice((16, 32)),
            "gpu": _GPUS[min(len(_GPUS) - 1, int((1 - q) * len(_GPUS)))], "os": _OS[0 if q > 0.5 else rng.randrange(4)],
            "age_years": round(max(0.2, rng.gauss(6 * (1 - q), 0.8)), 1), "ssd": q > 0.2,
            "monitor": "1920x1080" if q < 0.7 else "2560x1440",
        }],
        "staff": {"annual_turnover": turnover,
                  "adoption_history": ("failed", "struggled", "mixed", "neutral", "proactive")[min(4, int(q * 5))],
                  "training_completion": round(min(1.0, max(0.3, rng.gauss(0.6 + 0.35 * q, 0.08))), 2)},
        "champion": {"provider": statuses[champ_idx], "office_manager": statuses[min(3, champ_idx + rng.randint(0, 1))],
                     "previous_experience": q > 0.85},
    }
    if rng.random() < 0.6:
        ios = rng.choice(_IOS)
        loc["imaging"]["ios"] = {"make": ios[0], "model": ios[1]}
    return loc


def generate_organization(n_locations: int, seed: int = 0) -> Organization:
    return build_organization(generate_organization_doc(n_locations, seed), f"<generated {n_locations}/{seed}>")


def write_organization(path: str | Path, n_locations: int, seed: int = 0) -> Path:
    """Write a generated group as YAML (loadable by `load_organization`)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        f.write(f"# Generated by golive.tasks.planning.generator: {n_locations} locations, seed {seed}. Not a real group.\n")
        yaml.dump(generate_organization_doc(n_locations, seed), f)
    return p


# ---------------------------------------------------------------------------------------------
# Baseline CSVs


def _typical(metric: str, rng: random.Random, quality: float) -> float:
    d = catalog()[metric]
    lo, hi = d.plausible
    # Centre in the plausible range, nudged by the location's maturity, with noise.
    centre = lo + (hi - lo) * (0.35 + 0.2 * (quality - 0.5))
    value = rng.gauss(centre, (hi - lo) * 0.06)
    value = min(hi, max(lo, value))
    return round(value, 0 if d.unit.startswith("USD") else 1)


def generate_baseline_rows(
    location_ids: Sequence[str],
    seed: int = 0,
    period_end: date = date(2026, 10, 31),
    missing_rate: float = 0.0,
    metrics: Iterable[str] | None = None,
) -> list[dict[str, str]]:
    """Baseline CSV rows for the locations: every catalogue metric, some left blank at `missing_rate`."""
    rng = random.Random(seed)
    cat = catalog()
    rows = []
    for lid in location_ids:
        quality = rng.random()
        for mid in metrics or cat:
            d = cat[mid]
            days = d.period_days or 30
            start = period_end - timedelta(days=days - 1)
            blank = rng.random() < missing_rate
            rows.append({
                "location": lid,
                "metric": mid,
                "value": "" if blank else f"{_typical(mid, rng, quality):g}",
                "period_start": start.isoformat(),
                "period_end": period_end.isoformat(),
                "sample_size": str(d.sample_size) if d.sample_size else "",
            })
    return rows


def rows_to_csv(rows: Iterable[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["location", "metric", "value", "period_start", "period_end", "sample_size"],
                       lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_baseline_csv(path: str | Path, rows: Iterable[dict[str, str]]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(rows_to_csv(rows), encoding="utf-8")
    return p
