"""The golive store: runs, step results and approvals in SQLite (default) or PostgreSQL.

One `Store` is shared by every worker thread of a run: the engine pools connections and each
method uses its own short transaction. On SQLite, writers in this process queue on a lock and
writers in other processes on `BEGIN IMMEDIATE` + busy_timeout, so no "database is locked" error
surfaces for ordinary contention.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, insert, select, text, update
from sqlalchemy.orm import Session

from golive.tasks.foundation.errors import StoreError
from golive.tasks.store.audit import AuditLog
from golive.tasks.store.database import (
    READONLY,
    build_engine,
    default_url,
    is_memory,
    normalize_url,
    safe_url,
    translate_errors,
)
from golive.tasks.store.models import ApprovalRow, RunRow, StepResultRow
from golive.tasks.store.records import ApprovalRecord, RunRecord, StepRecord
from golive.tasks.store.unit import StepUnit
from golive.tasks.store.upsert import dialect_insert

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATE_LOCK = 0x676F6C6976_01  # pg_advisory_xact_lock key for migrations ("golive" 01)
RESUMABLE_STATES = ("completed", "cached")
_INSERT_STEP = insert(cast(Table, StepResultRow.__table__))
_RUNS = cast(Table, RunRow.__table__)


@lru_cache(maxsize=4)
def _script_head(location: str) -> str | None:
    """The newest migration shipped (read once per process: the scripts do not change under it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(location)).get_current_head()


def _alembic_config(location: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", location)
    cfg.set_main_option("path_separator", "os")
    # No sqlalchemy.url: migrate() hands env.py an open connection (and passwords may hold '%').
    return cfg


def _now() -> datetime:
    return datetime.now(UTC)



def _finish_session(s: Session, readonly: bool) -> Iterator[Session]:
    """Yield the session to the caller's block; roll back on an error or when read-only, else commit."""
    try:
        yield s
    except BaseException:
        s.rollback()
        raise
    if readonly:
        s.rollback()
    else:
        s.commit()

class Store:
    """Runs, step results, approvals and the hash-chained audit log (`store.audit`).

    `Store(url)` connects lazily; `Store.open(url)` also migrates. `url` None means
    `GOLIVE_DATABASE_URL`, else `sqlite:///<state dir>/golive.db`.
    """

    def __init__(self, url: str | None = None, *, audit_key: str | bytes | None = None) -> None:
        self.url = normalize_url(url if url is not None else default_url())
        with translate_errors("opening the store", self.url):
            self._engine: Engine = build_engine(self.url)
        self.dialect: str = self._engine.dialect.name
        ro_options: dict[str, Any] = {READONLY: True}
        if self.dialect == "postgresql":
            ro_options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self._ro_engine = self._engine.execution_options(**ro_options)
        # SQLite: in-process writers wait here rather than in SQLite's sleeping busy handler.
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )
        self._memory = is_memory(self.url)
        self._local = threading.local()
        self.audit = AuditLog(self, key=audit_key)

    @classmethod
    def open(cls, url: str | None = None, *, audit_key: str | bytes | None = None) -> Store:
        """Construct and bring the schema to the newest migration."""
        store = cls(url, audit_key=audit_key)
        try:
            store.migrate()
        except BaseException:
            store.dispose()
            raise
        return store

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    def dispose(self) -> None:
        self._engine.dispose()

    # -- schema -------------------------------------------------------------------------------

    def alembic_config(self) -> Config:
        return _alembic_config(str(MIGRATIONS))

    @contextmanager
    def _migration_file_lock(self) -> Iterator[None]:
        """SQLite file: an exclusive lock file beside the database while migrating.

        Two stores opening a brand-new database at once (threads or processes) would otherwise
        race on its first connection, where switching it to WAL can fail at once with "database is
        locked" instead of waiting. PostgreSQL uses an advisory lock instead.
        """
        if self.dialect != "sqlite" or self._memory or not self.url.database:
            yield
            return
        import fcntl

        lock_path = Path(self.url.database).with_name(Path(self.url.database).name + ".migrate-lock")
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def migration_connection(self) -> Iterator[Connection]:
        """A connection in a transaction holding the migration lock (committed on exit)."""
        with self._migration_file_lock(), self._write_lock, translate_errors("migrating the store", self.url):
            with self._engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE serialises migrators
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK})
                yield conn

    def migrate(self) -> None:
        """Alembic `upgrade head` (safe to call concurrently and repeatedly; a no-op when current).

        A store already at head is left without taking the migration lock: every run opens the
        store several times, and the locked no-op upgrade cost 18 ms an open (measured)."""
        if not self._memory and self._at_head():
            return
        cfg = self.alembic_config()
        with self.migration_connection() as conn:
            cfg.attributes["connection"] = conn
            with translate_errors("migrating the store", self.url):
                command.upgrade(cfg, "head")

    def _at_head(self) -> bool:
        from alembic.runtime.migration import MigrationContext

        try:
            with self._engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_heads()
        except Exception:  # noqa: BLE001 - unreadable here: the locked upgrade reports it properly
            return False
        return current == (_script_head(str(MIGRATIONS)),)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with translate_errors("reading the schema revision", self.url), self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # -- step units ---------------------------------------------------------------------------

    @contextmanager
    def step_unit(self, run_id: str, *, join: bool) -> Iterator[StepUnit]:
        """A step's unit of work (see `golive.tasks.store.unit`); with `join`, this thread's writes
        go into one transaction until `unit.commit()`. Left without a commit, it rolls back."""
        unit = StepUnit(self, run_id, join=join)
        previous = getattr(self._local, "unit", None)
        self._local.unit = unit
        try:
            yield unit
        finally:
            self._local.unit = previous
            unit.close(commit=False)

    def joined_unit(self) -> StepUnit | None:
        unit = getattr(self._local, "unit", None)
        return unit if unit is not None and unit.joined_here() else None

    # -- sessions -----------------------------------------------------------------------------

    @contextmanager
    def _transaction_guard(self, readonly: bool) -> Iterator[None]:
        """Writer lock (SQLite), nesting check and error translation around one transaction."""
        depth = getattr(self._local, "depth", 0)
        if self.dialect == "sqlite" and not readonly and depth > 0:
            raise StoreError("nested write session on SQLite would wait for itself; reuse the outer one")
        lock = self._write_lock if (not readonly or self._memory) else nullcontext()
        with lock, translate_errors("a store transaction", self.url):
            self._local.depth = depth + (0 if readonly else 1)
            try:
                yield
            finally:
                self._local.depth = depth

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A Session in one transaction: committed on success, rolled back on error.

        On SQLite a write session holds the database write lock for its whole body, so keep it
        short and do not open a second write session inside it (that would wait for itself);
        `readonly=True` sessions read one consistent snapshot and never block writers.
        SQLAlchemy errors raised inside become StoreError; other exceptions pass through.
        """
        unit = self.joined_unit()
        if unit is not None and (not readonly or unit.conn is not None):
            # A joined step: a savepoint in its transaction (reads see the step's own writes).
            with translate_errors("a store transaction", self.url), Session(
                    bind=unit.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
                yield from _finish_session(s, readonly)
            return
        with self._transaction_guard(readonly):
            engine = self._ro_engine if readonly else self._engine
            with Session(engine, expire_on_commit=False) as s:
                yield from _finish_session(s, readonly)

    @contextmanager
    def connection(self, *, readonly: bool = False) -> Iterator[Connection]:
        """Like `session()` but a Core Connection in one transaction (for hot paths)."""
        unit = self.joined_unit()
        if unit is not None and (not readonly or unit.conn is not None):
            conn = unit.connection()
            with translate_errors("a store transaction", self.url), conn.begin_nested() as savepoint:
                yield conn
                if readonly:
                    savepoint.rollback()
            return
        with self._transaction_guard(readonly):
            with (self._ro_engine if readonly else self._engine).connect() as conn, conn.begin() as txn:
                yield conn
                if readonly:
                    txn.rollback()

    # -- runs ---------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        run_id: str,
        run_key: str,
        runbook: str,
        parameters: Mapping[str, Any],
        state: str = "running",
        audit: tuple[str, Mapping[str, Any]] | None = None,
    ) -> RunRecord:
        """Record a run; with `audit=(event, data)` its first audit entry commits with it (a run
        never exists without audit entries, which `verify_report` checks)."""
        values = {"run_id": run_id, "run_key": run_key, "runbook": runbook,
                  "parameters": _jsonable(dict(parameters), "run parameters"), "state": state,
                  "started_at": _now(), "finished_at": None}
        # A retry of the same Prefect flow run (same id, same run key) starts the same run again:
        # the row is reopened, its first start kept, not inserted twice. Another key is an error.
        stmt = dialect_insert(self.dialect, _RUNS)
        stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["run_id"], set_={"state": stmt.excluded.state, "finished_at": None},
            where=(_RUNS.c.run_key == stmt.excluded.run_key) & (_RUNS.c.runbook == stmt.excluded.runbook))
        if audit is not None:
            self.audit.append_group([audit], run_id=run_id, also=[(stmt, values)])
        else:
            with self.connection() as conn:
                conn.execute(stmt, values)
        with self.connection() as conn:
            row = conn.execute(select(_RUNS).where(_RUNS.c.run_id == run_id)).one()
        if (row.run_key, row.runbook) != (run_key, runbook):
            raise StoreError(f"run {run_id!r} is already in the store under another run key or runbook")
        return RunRecord(run_id=row.run_id, run_key=row.run_key, runbook=row.runbook,
                         parameters=dict(row.parameters or {}), state=row.state, started_at=row.started_at,
                         finished_at=row.finished_at)

    def finish_run(self, run_id: str, state: str) -> None:
        with self.session() as s:
            result = s.execute(
                update(RunRow).where(RunRow.run_id == run_id).values(state=state, finished_at=_now())
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise StoreError(f"no run {run_id!r} in the store")

    def set_run_state(self, run_id: str, state: str, *, audit: tuple[str, Mapping[str, Any]],
                      only_from: tuple[str, ...] = ("running",), finished: bool = False) -> bool:
        """Move a run to `state` (from one of `only_from`) with its audit entry in the same transaction:
        `suspended` while it waits for a person (no process holds it), or what `golive runs reconcile`
        learns from Prefect (`crashed`, `cancelled`). False when the run was in no such state."""
        stmt = update(_RUNS).where(_RUNS.c.run_id == run_id, _RUNS.c.state.in_(only_from)).values(
            state=state, finished_at=_now() if finished else None)
        with self.session(readonly=True) as s:
            row = s.get(RunRow, run_id)
            if row is None or row.state not in only_from:
                return False
        results = self.audit.append_group([audit], run_id=run_id, also=[(stmt, {})])
        return bool(results and results[0].rowcount)

    def get_run(self, run_id: str) -> RunRecord | None:
        with self.session(readonly=True) as s:
            row = s.get(RunRow, run_id)
            return _run_record(row) if row is not None else None

    def list_runs(self, state: str | None = None, run_key: str | None = None) -> list[RunRecord]:
        """Runs newest first, optionally of one state (`running`, `completed`, `crashed`, ...) or key."""
        stmt = select(RunRow).order_by(RunRow.started_at.desc())
        if state is not None:
            stmt = stmt.where(RunRow.state == state)
        if run_key is not None:
            stmt = stmt.where(RunRow.run_key == run_key)
        with self.session(readonly=True) as s:
            return [_run_record(r) for r in s.scalars(stmt)]

    # -- steps --------------------------------------------------------------------------------

    def record_step(
        self,
        *,
        run_id: str,
        run_key: str,
        step_key: str,
        step_id: str,
        state: str,
        input_hash: str,
        outputs: Mapping[str, Any] | None,
        error: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        audit: tuple[str, Mapping[str, Any]] | None = None,
        unit: StepUnit | None = None,
    ) -> StepRecord:
        """Record a step result; with `audit=(event, data)` the audit entry commits in the same
        transaction (one write instead of two on every step's path)."""
        values: dict[str, Any] = {
            "run_id": run_id,
            "run_key": run_key,
            "step_key": step_key,
            "step_id": step_id,
            "state": state,
            "input_hash": input_hash,
            "outputs": _jsonable(dict(outputs or {}), f"outputs of step {step_key!r}"),
            "error": error,
            "started_at": _utc(started_at, "started_at"),
            "finished_at": _utc(finished_at, "finished_at") if finished_at is not None else _now(),
        }
        if unit is not None:  # the step's held audit entries and joined writes commit with it
            (result,) = unit.commit([audit] if audit is not None else [], also=[(_INSERT_STEP, values)])
        elif audit is not None:
            _seq, (result,) = self.audit.append_with(audit[0], audit[1], run_id=run_id, also=[(_INSERT_STEP, values)])
        else:
            with self.connection() as conn:  # Core, prebuilt: this is on every step's path
                result = conn.execute(_INSERT_STEP, values)
        (new_id,) = result.inserted_primary_key  # type: ignore[misc]
        return StepRecord(id=int(new_id), **values)

    def last_completed(self, run_key: str, step_key: str) -> StepRecord | None:
        """The latest `completed` or `cached` record of this step under this run key (for resume)."""
        stmt = (
            select(StepResultRow)
            .where(
                StepResultRow.run_key == run_key,
                StepResultRow.step_key == step_key,
                StepResultRow.state.in_(RESUMABLE_STATES),
            )
            .order_by(StepResultRow.id.desc())
            .limit(1)
        )
        with self.session(readonly=True) as s:
            row = s.scalars(stmt).first()
            return _step_record(row) if row is not None else None

    def first_started(self, run_key: str) -> datetime | None:
        """When the first run under this run key started: due dates of a resumed run count from it."""
        stmt = select(RunRow.started_at).where(RunRow.run_key == run_key).order_by(RunRow.started_at).limit(1)
        with self.session(readonly=True) as s:
            return s.execute(stmt).scalar()

    def completed_steps(self, run_key: str) -> dict[str, StepRecord]:
        """The latest `completed` or `cached` record of every step under this run key, in one query.

        The executor reads this once per run instead of asking `last_completed` per step.
        """
        stmt = (
            select(StepResultRow)
            .where(StepResultRow.run_key == run_key, StepResultRow.state.in_(RESUMABLE_STATES))
            .order_by(StepResultRow.id)
        )
        with self.session(readonly=True) as s:
            return {r.step_key: _step_record(r) for r in s.scalars(stmt)}  # later rows win

    def steps_for_run(self, run_id: str) -> list[StepRecord]:
        stmt = select(StepResultRow).where(StepResultRow.run_id == run_id).order_by(StepResultRow.id)
        with self.session(readonly=True) as s:
            return [_step_record(r) for r in s.scalars(stmt)]

    # -- approvals ----------------------------------------------------------------------------

    def record_approval(
        self, *, run_id: str, step_key: str, decision: str, name: str, role: str, comment: str = ""
    ) -> ApprovalRecord:
        row = ApprovalRow(
            run_id=run_id,
            step_key=step_key,
            decision=decision,
            name=name,
            role=role,
            comment=comment or "",
            decided_at=_now(),
        )
        with self.session() as s:
            s.add(row)
            s.flush()
        return _approval_record(row)

    def approvals_for_run(self, run_id: str) -> list[ApprovalRecord]:
        stmt = select(ApprovalRow).where(ApprovalRow.run_id == run_id).order_by(ApprovalRow.id)
        with self.session(readonly=True) as s:
            return [_approval_record(r) for r in s.scalars(stmt)]


def _utc(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise StoreError(f"{what} is a naive datetime; pass a timezone-aware one")
    return value.astimezone(UTC)


def _jsonable(value: dict[str, Any], what: str) -> dict[str, Any]:
    from golive.tasks.store.database import json_dumps

    try:
        json_dumps(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} are not JSON-serialisable: {exc}") from None
    return value


def _run_record(r: RunRow) -> RunRecord:
    return RunRecord(
        run_id=r.run_id,
        run_key=r.run_key,
        runbook=r.runbook,
        parameters=dict(r.parameters or {}),
        state=r.state,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


def _step_record(r: StepResultRow) -> StepRecord:
    return StepRecord(
        id=r.id,
        run_id=r.run_id,
        run_key=r.run_key,
        step_key=r.step_key,
        step_id=r.step_id,
        state=r.state,
        input_hash=r.input_hash,
        outputs=dict(r.outputs or {}),
        error=r.error,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


def _approval_record(r: ApprovalRow) -> ApprovalRecord:
    return ApprovalRecord(
        id=r.id,
        run_id=r.run_id,
        step_key=r.step_key,
        decision=r.decision,
        name=r.name,
        role=r.role,
        comment=r.comment,
        decided_at=r.decided_at,
    )


def verify_report(store: Store) -> tuple[int, str]:
    """For `golive audit verify`: (0, "N audit entries verified") or (1, the reason).

    Beyond the chain itself: every run must have audit entries, and an empty log (no checkpoint)
    is a failure when the store holds runs: deleting the whole log and its checkpoint no longer
    verifies as "0 audit entries".
    """
    from sqlalchemy import func

    from golive.tasks.store.models import AuditEntryRow

    result = store.audit.verify()
    if not result.ok:
        return 1, f"audit entry {result.first_bad_seq}: {result.reason}"
    with store.session(readonly=True) as s:
        runs = s.execute(select(func.count()).select_from(RunRow)).scalar() or 0
        if result.count == 0 and runs:
            return 1, f"the audit log and its checkpoint are missing, but the store holds {runs} run(s)"
        audited = select(AuditEntryRow.run_id).where(AuditEntryRow.run_id.is_not(None)).distinct()
        bare = s.scalars(select(RunRow.run_id).where(RunRow.run_id.not_in(audited)).limit(3)).all()
    if bare:
        return 1, f"run {bare[0]} has no audit entries" + (f" (and {len(bare) - 1} more)" if len(bare) > 1 else "")
    return 0, f"{result.count} audit entries verified"
