"""Store set-up on SQLite: URL resolution, pragmas, sessions, error translation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from golive.tasks.foundation.errors import GoliveError, StoreError
from golive.tasks.store import Store, default_url
from golive.tasks.store.database import normalize_url


def test_default_url_uses_env_then_state_dir(golive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_url() == f"sqlite:///{golive_home / 'golive.db'}"
    monkeypatch.setenv("GOLIVE_DATABASE_URL", "postgresql://u@db/golive")
    assert default_url() == "postgresql://u@db/golive"


def test_store_without_url_creates_the_state_dir(golive_home: Path) -> None:
    store = Store.open()
    try:
        store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
        assert (golive_home / "golive.db").is_file()
        assert store.dialect == "sqlite"
    finally:
        store.dispose()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(StoreError, match="unsupported"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(StoreError, match="not a database URL"):
        normalize_url("::nonsense::")


def test_sqlite_pragmas(sqlite_store: Store) -> None:
    with sqlite_store.session(readonly=True) as s:
        got = {
            p: s.execute(text(f"PRAGMA {p}")).scalar()
            for p in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
        }
    assert got == {"journal_mode": "wal", "busy_timeout": 30000, "synchronous": 1, "foreign_keys": 1}


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    store = Store("postgresql://golive:s3cret-pw@127.0.0.1:1/golive")
    with pytest.raises(StoreError) as err:
        store.migrate()
    assert "s3cret-pw" not in str(err.value)
    assert "127.0.0.1:1" in str(err.value) and "***" in str(err.value)
    assert isinstance(err.value, GoliveError)


def test_unwritable_sqlite_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the store folder"):
        Store(f"sqlite:///{blocker / 'sub' / 'golive.db'}")


def test_unmigrated_store_reports_missing_table(golive_home: Path, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'raw.db'}")
    try:
        with pytest.raises(StoreError, match="no such table"):
            store.get_run("r")
    finally:
        store.dispose()


def test_non_json_outputs_and_naive_times_are_refused(sqlite_store: Store) -> None:
    sqlite_store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
    base = {
        "run_id": "r",
        "run_key": "k",
        "step_key": "s",
        "step_id": "s",
        "state": "completed",
        "input_hash": "h",
    }
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        sqlite_store.record_step(**base, outputs={"x": object()})
    with pytest.raises(StoreError, match="naive datetime"):
        sqlite_store.record_step(**base, outputs={}, started_at=datetime(2026, 1, 1))
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        sqlite_store.start_run(run_id="r2", run_key="k", runbook="b", parameters={"x": {1, 2}})
    assert sqlite_store.steps_for_run("r") == []


def test_nested_write_session_fails_fast_on_sqlite(sqlite_store: Store) -> None:
    sqlite_store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
    with sqlite_store.session() as s:
        s.execute(text("UPDATE runs SET state = 'x'"))
        assert sqlite_store.get_run("r") is not None  # a read inside a write session is fine
        with pytest.raises(StoreError, match="nested write session"):
            sqlite_store.finish_run("r", "completed")


def test_a_writer_in_another_connection_waits_instead_of_failing(sqlite_store: Store, tmp_path: Path) -> None:
    """A second Store (as another process would) blocks on BEGIN IMMEDIATE until the first commits."""
    other = Store(f"sqlite:///{tmp_path / 'store.db'}")
    sqlite_store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with sqlite_store.session() as s:
            s.execute(text("UPDATE runs SET state = 'held'"))
            holding.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    holding.wait(10)
    threading.Timer(0.3, release.set).start()
    try:
        other.finish_run("r", "completed")  # must wait for `hold`, then win
    finally:
        t.join()
        other.dispose()
    assert sqlite_store.get_run("r").state == "completed"  # type: ignore[union-attr]


def test_memory_database_works_across_threads(golive_home: Path) -> None:
    store = Store.open("sqlite://", audit_key="k")
    try:
        store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
        threads = [threading.Thread(target=lambda: store.audit.append("e", {})) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.audit.verify().count == 4
    finally:
        store.dispose()


def test_times_come_back_in_utc(sqlite_store: Store) -> None:
    sqlite_store.start_run(run_id="r", run_key="k", runbook="b", parameters={})
    cest = timezone(timedelta(hours=2))
    rec = sqlite_store.record_step(
        run_id="r",
        run_key="k",
        step_key="s",
        step_id="s",
        state="completed",
        input_hash="h",
        outputs={},
        started_at=datetime(2026, 6, 1, 12, 0, tzinfo=cest),
        finished_at=datetime(2026, 6, 1, 12, 30, tzinfo=cest),
    )
    expected = (datetime(2026, 6, 1, 10, 0, tzinfo=UTC), datetime(2026, 6, 1, 10, 30, tzinfo=UTC))
    assert (rec.started_at, rec.finished_at) == expected
    [stored] = sqlite_store.steps_for_run("r")
    assert stored == rec
    assert stored.started_at is not None and stored.started_at.tzinfo == UTC
