"""Engine set-up for the store: URL resolution, SQLite pragmas and transactions, error translation."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import StoreError

log = logging.getLogger(__name__)

ENV_URL = "GOLIVE_DATABASE_URL"
BUSY_TIMEOUT_S = 30
READONLY = "golive_readonly"  # execution option: a plain deferred BEGIN instead of BEGIN IMMEDIATE


def default_url() -> str:
    """`GOLIVE_DATABASE_URL`, else SQLite at `<state dir>/golive.db`."""
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    return f"sqlite:///{paths.state_dir() / 'golive.db'}"


def normalize_url(raw: str) -> URL:
    """Parse a database URL; plain `postgresql://` / `postgres://` use psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {url.get_backend_name()!r}; use sqlite or postgresql")
    return url


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def build_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, json_serializer=json_dumps, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    memory = is_memory(url)
    if not memory and url.database:
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {folder}: {exc.strerror}") from None
    engine = create_engine(
        url,
        json_serializer=json_dumps,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own implicit transactions are off; SQLAlchemy's "begin" event below
        # emits BEGIN itself, so DDL is transactional and writers take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock now (waiting up to busy_timeout), so a
        # transaction never fails later upgrading a read snapshot to a write. Readers (the
        # READONLY option) use a deferred BEGIN and see one consistent WAL snapshot.
        readonly = conn.get_execution_options().get(READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def translate_errors(action: str, url: URL) -> Iterator[None]:
    """Turn SQLAlchemy/driver/Alembic errors into StoreError naming the database, not its password."""
    try:
        yield
    except StoreError:
        raise
    except (SQLAlchemyError, CommandError) as exc:
        raise StoreError(f"{action} failed on {safe_url(url)}: {_describe(exc, url)}") from exc


def _describe(exc: BaseException, url: URL) -> str:
    inner: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [ln.strip() for ln in str(inner).splitlines() if ln.strip()]
    text = lines[0] if lines else type(inner).__name__
    # drop SQLAlchemy's "(Background on this error at ...)" / SQL echo, keep the cause
    text = text.split("[SQL:")[0].strip()
    if url.password:
        text = text.replace(str(url.password), "***")
    return f"{type(inner).__name__}: {text}"
