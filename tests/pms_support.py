"""Helpers shared by the PMS tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from golive.tasks.store import Store


def pms_store(path: Path) -> Store:
    """A store at `path`, migrated to head, which includes 0004_pms (the write-back keys)."""
    store = Store.open(f"sqlite:///{path}")
    assert "pms_writebacks" in inspect(store.engine).get_table_names()
    return store
