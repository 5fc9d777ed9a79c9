from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pms_support import pms_store

from golive.tasks.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = pms_store(tmp_path / "golive.db")
    yield s
    s.dispose()


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_PSEUDONYM_KEY", "test-key")
