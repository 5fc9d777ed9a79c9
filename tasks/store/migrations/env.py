"""Alembic environment for the golive store.

`Store.migrate()` passes an open connection (already in a transaction, holding the migration
lock) through `config.attributes["connection"]`. Developers may also run the `alembic` command
with `tasks/store/alembic.ini`; the URL then comes from `GOLIVE_DATABASE_URL` or the default.
"""

from __future__ import annotations

from alembic import context

import golive.tasks.store.models  # noqa: F401  (registers the core tables on Base.metadata)
from golive.tasks.store.base import Base

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from golive.tasks.store.store import Store

    store = Store(config.get_main_option("sqlalchemy.url") or None)
    try:
        with store.migration_connection() as conn:
            _run(conn)
    finally:
        store.dispose()


if context.is_offline_mode():
    raise SystemExit("golive migrations run online only (Store.migrate or `alembic upgrade head`)")
run_migrations_online()
