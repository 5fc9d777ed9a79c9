"""Exactly-once under SIGKILL: kill a run at instrumented points (before a step's effect, after
it and before its commit, after the commit) and at random instants, resume with the same run key,
and check every effect exists once, the audit log verifies and no run is left `running`.

`make test` runs a fixed subset (11 kills, SQLite and PostgreSQL); `make soak` runs every
point of every kind on both backends plus random-delay kills (>= 50 kills).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_support import ALL_POINTS, FIXTURES, Harness

SEED = 10


@pytest.fixture
def api_url(prefect_server: None) -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the session's Prefect test server has no API URL"
    return str(url)


def _env(tmp_path: Path, db_url: str | None) -> dict[str, str]:
    env = {"GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_ORG": str(FIXTURES / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": "crash-test-key"}
    if db_url:
        env["GOLIVE_DATABASE_URL"] = db_url
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres])])
def harness(request: pytest.FixtureRequest, tmp_path: Path, api_url: str) -> Iterator[Harness]:
    db_url = None
    if request.param == "postgres":
        from store_fixtures import _reset_pg_schema

        db_url = request.getfixturevalue("pg_database")
        _reset_pg_schema(db_url)
    yield Harness(api_url, _env(tmp_path, db_url), tmp_path)


# The default subset (11 kills, seeded and fixed): the points where the old engine duplicated
# (after the effect, before the step's result) for every store kind on one backend or the other.
# In each chain a later point's step depends on the earlier one, so every point fires; random
# instants are left to `make soak`.
SEEDED = {
    "sqlite": [["checklist:effect", "approval:effect", "rollout.set:effect"], ["notify:after"],
               ["metrics.simulate:before", "gate:effect"]],
    "postgres": [["checklist:after", "approval:after", "rollout.set:after"], ["metrics.simulate:effect", "gate:after"]],
}


def test_seeded_kills_resume_exactly_once(harness: Harness, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["harness"]
    for i, chain in enumerate(SEEDED[backend]):
        harness.chain(f"crash-seeded-{i}", chain)
    print("\n".join(harness.log))
    assert harness.kills == sum(map(len, SEEDED[backend])), harness.log


@pytest.mark.slow
def test_soak_every_point_and_random_kills(harness: Harness) -> None:
    """Every (kind, point) in its own chain, then 8 random-instant kills each on a fresh key: 26
    kills per backend. The log says which kills landed after the run had started (`crashed` runs)."""
    rng = random.Random(SEED)
    for i, point in enumerate(ALL_POINTS):
        harness.chain(f"soak-{i}", [point])
    point_kills = harness.kills
    for i in range(16):  # until 8 random-instant kills have landed (a late one finds the run done)
        if harness.kills - point_kills >= 8:
            break
        harness.chain(f"soak-random-{i}", [], rng=rng, random_kills=1)
    print("\n".join(harness.log))
    print(f"{harness.kills} kills; {harness.crashed_runs()} of them after the run had started")
    assert harness.kills >= 26, harness.log
