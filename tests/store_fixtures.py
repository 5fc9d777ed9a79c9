"""Store fixtures shared by tests/unit/store and tests/integration/store (and any helper's tests).

`store` / `store_url` are parametrized over SQLite (a file in tmp_path) and the local PostgreSQL
server (127.0.0.1:5432, trust auth as `postgres` or `root`; override the admin URL with
`GOLIVE_TEST_POSTGRES_URL`). PostgreSQL tests get one database per test session
(`golive_test_<random>`, dropped at the end) with a fresh schema per test; they skip with the
reason when the server is unreachable. `sqlite_store` is SQLite only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_AUDIT_KEY = "test-audit-key-0123456789abcdef"
PG_HOST, PG_PORT = "127.0.0.1", 5432

BACKENDS = ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres])]


def _admin_candidates() -> list[str]:
    env = os.environ.get("GOLIVE_TEST_POSTGRES_URL", "").strip()
    if env:
        return [env]
    return [f"postgresql://{user}@{PG_HOST}:{PG_PORT}/postgres" for user in ("postgres", "root")]


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """An admin URL to the local PostgreSQL server, or skip with the reason."""
    import psycopg
    from sqlalchemy import make_url

    errors = []
    for url in _admin_candidates():
        try:
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
                return url
        except psycopg.Error as exc:
            shown = make_url(url).render_as_string(hide_password=True)
            errors.append(f"{shown}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    reason = f"PostgreSQL not reachable ({'; '.join(errors)})"
    if os.environ.get("GOLIVE_TEST_REQUIRE_POSTGRES") == "1":  # set by .ci/run: a skip there would hide a gap
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A throw-away database for this test session; yields its URL, drops it at the end."""
    import psycopg
    from sqlalchemy import make_url

    name = f"golive_test_{secrets.token_hex(6)}"
    admin = pg_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_pg_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture
def golive_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """State dir in tmp_path; no audit key or database URL leaks in from the environment."""
    home = tmp_path / "golive-home"
    monkeypatch.setenv("GOLIVE_HOME", str(home))
    monkeypatch.delenv("GOLIVE_AUDIT_KEY", raising=False)
    monkeypatch.delenv("GOLIVE_DATABASE_URL", raising=False)
    return home


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path, golive_home: Path) -> str:
    """An empty database URL: SQLite in tmp_path, or a freshly reset PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg_schema(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    """A migrated `Store` on each backend, with a fixed test audit key."""
    from golive.tasks.store import Store

    s = Store.open(store_url, audit_key=TEST_AUDIT_KEY)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, golive_home: Path) -> Iterator[object]:
    from golive.tasks.store import Store

    s = Store.open(f"sqlite:///{tmp_path / 'store.db'}", audit_key=TEST_AUDIT_KEY)
    try:
        yield s
    finally:
        s.dispose()
