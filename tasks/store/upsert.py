"""`INSERT ... ON CONFLICT` for keyed rows, on SQLite and PostgreSQL alike.

Several workers write the same keyed rows at once on a shared installation (two metric runs for
one location, two imports of one file). Read-then-write or delete-then-insert races there: both
writers see no row and both insert, and one fails with a unique violation. One upsert statement
lets the database settle it: the later writer updates the row the earlier one inserted.

Rows are deduplicated by key (the last one wins) and sorted by key before they are sent, so one
statement never touches a row twice (PostgreSQL refuses that) and two writers lock rows in the
same order (no deadlock between them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql.dml import Insert


def dialect_insert(dialect: str, table: Table) -> Any:
    """The dialect's own `insert()` (it has `on_conflict_do_update` / `on_conflict_do_nothing`)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise ValueError(f"no upsert for the {dialect!r} dialect; use sqlite or postgresql")


def upsert_statement(dialect: str, table: Table, key: Sequence[str], update: Sequence[str] | None = None,
                     *, where: Any = None) -> Insert:
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET <update> = excluded.<update>`.

    `update` None means every column that is not in `key` (and not an autoincrement id);
    an empty `update` means `DO NOTHING`. `where` is the predicate of a partial unique index.
    """
    stmt = dialect_insert(dialect, table)
    if update is None:
        update = [c.name for c in table.columns if c.name not in key and not (c.primary_key and c.autoincrement)]
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(key), index_where=where)  # type: ignore[no-any-return]
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(key), index_where=where, set_={c: stmt.excluded[c] for c in update})


def keyed_rows(rows: Iterable[Mapping[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """The rows deduplicated by `key` (the last one wins), in key order."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[k] for k in key)] = dict(row)
    return [by_key[k] for k in sorted(by_key, key=lambda k: tuple(str(v) for v in k))]


def upsert(conn: Any, dialect: str, table: Table, rows: Iterable[Mapping[str, Any]], key: Sequence[str],
           update: Sequence[str] | None = None) -> int:
    """Upsert `rows` through `conn` (a Connection or Session, inside the caller's transaction).

    Returns the number of distinct keys written. Executed as one executemany: SQLAlchemy batches
    it into multi-row statements ("insertmanyvalues") within the driver's parameter limits.
    """
    batch = keyed_rows(rows, key)
    if batch:
        conn.execute(upsert_statement(dialect, table, key, update), batch)
    return len(batch)
