"""One live run per run key: two processes started behind a barrier, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_support import FIXTURES, check_exactly_once, lease_race, run_race

TRIALS = 20
BUSY = re.compile(r"^run key (\S+) is running \(pid \d+ on host \S+ since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$")


@pytest.fixture
def api_url(prefect_server: None) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres])])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    out = {"GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_ORG": str(FIXTURES / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": "lease-test-key"}
    if request.param == "postgres":
        from store_fixtures import _reset_pg_schema

        url = request.getfixturevalue("pg_database")
        _reset_pg_schema(url)
        out["GOLIVE_DATABASE_URL"] = url
    else:
        out["GOLIVE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'golive.db'}"
    from golive.tasks.store import Store

    Store.open(out["GOLIVE_DATABASE_URL"]).dispose()  # migrated once, not by both racers
    yield out


def test_lease_barrier_exactly_one_wins(env: dict[str, str], api_url: str, tmp_path: Path) -> None:
    keys = [f"race-{i}" for i in range(TRIALS)]
    a, b = lease_race(api_url, tmp_path, env, keys)
    for key, x, y in zip(keys, a, b, strict=True):
        assert sorted([x == "got", y == "got"]) == [False, True], f"{key}: {x!r} / {y!r}"
        loser = y if x == "got" else x
        match = BUSY.match(loser)
        assert match and match.group(1) == key, loser


def test_two_runs_of_one_key_one_refused_no_duplicates(env: dict[str, str], api_url: str, tmp_path: Path) -> None:
    a, b = run_race(api_url, tmp_path, env, "race-run")
    types = sorted([a["type"], b["type"]])
    assert types == ["COMPLETED", "FAILED"], (a, b)
    refused = a if a["type"] == "FAILED" else b
    assert BUSY.match(refused["message"]), refused["message"]
    check_exactly_once(env, "race-run", complete=True)
