"""Seeded generators: groups that validate, deterministic output, baseline CSVs that import."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from golive.tasks.planning.generator import (
    generate_baseline_rows,
    generate_organization,
    generate_organization_doc,
    rows_to_csv,
    write_baseline_csv,
    write_organization,
)
from golive.tasks.planning.metrics import parse_metrics_csv
from golive.tasks.planning.organization import load_organization
from golive.tasks.planning.readiness import score_organization


def test_generated_group_passes_validation(tmp_path: Path) -> None:
    org = load_organization(write_organization(tmp_path / "g50.yaml", 50, seed=1))
    assert len(org.locations) == 50 and len({loc.id for loc in org.locations}) == 50
    assert org.people_with_role("Regional Manager")


def test_same_seed_same_group() -> None:
    assert generate_organization_doc(50, 3) == generate_organization_doc(50, 3)
    assert generate_organization_doc(50, 3) != generate_organization_doc(50, 4)


def test_generated_500_spans_the_tiers() -> None:
    tiers = Counter(s.tier for s in score_organization(generate_organization(500, 7)))
    assert {1, 2, 3, 4} <= {int(t) for t in tiers if t is not None}


def test_generated_baseline_parses_cleanly(tmp_path: Path) -> None:
    org = generate_organization(50, 2)
    rows = generate_baseline_rows([loc.id for loc in org.locations], seed=2, missing_rate=0.1)
    path = write_baseline_csv(tmp_path / "b.csv", rows)
    ms, issues, n, blank, _ = parse_metrics_csv(path, org)
    assert issues == [] and n == 50 * 14 and len(ms) + blank == n and blank > 0
    assert rows_to_csv(rows) == path.read_text(encoding="utf-8")
