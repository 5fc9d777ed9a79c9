"""Audit key handling and the MAC construction."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from golive.tasks.foundation.errors import StoreError
from golive.tasks.store import Store, verify_report
from golive.tasks.store.audit import GENESIS, entry_mac, load_key


def test_key_file_is_created_once_with_mode_0600(golive_home: Path) -> None:
    key = load_key()
    path = golive_home / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and bytes.fromhex(key.decode())
    assert load_key() == key


def test_concurrent_key_creation_agrees(golive_home: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_key())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1


def test_env_key_wins_and_no_file_is_written(golive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "from-the-environment")
    assert load_key() == b"from-the-environment"
    assert not (golive_home / "audit.key").exists()


def test_store_uses_the_key_file_by_default(
    golive_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = Store.open(url)
    store.audit.append("e", {"n": 1})
    store.dispose()
    assert (golive_home / "audit.key").is_file()
    with monkeypatch.context() as m:
        m.setenv("GOLIVE_AUDIT_KEY", "not-the-file-key")
        other = Store(url)
        wrong = verify_report(other)
        other.dispose()
    assert wrong == (1, "audit entry 1: the audit key does not match the key this log was written with")
    again = Store(url)
    assert verify_report(again) == (0, "1 audit entries verified")
    again.dispose()


def test_mac_covers_every_field() -> None:
    base = (b"k", 1, "2026-01-01T00:00:00.000000+00:00", "e", "r1", '{"a":1}', GENESIS)
    macs = {entry_mac(*base)}
    for i in range(len(base)):
        changed = list(base)
        value = changed[i]
        changed[i] = (
            value + 1
            if isinstance(value, int)
            else (value + b"x" if isinstance(value, bytes) else value + "x")
        )
        macs.add(entry_mac(*changed))  # type: ignore[arg-type]
    macs.add(entry_mac(b"k", 1, base[2], "e", None, '{"a":1}', GENESIS))
    assert len(macs) == len(base) + 2


def test_bad_audit_input_is_refused(sqlite_store: Store) -> None:
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        sqlite_store.audit.append("e", {"x": float("nan")})
    with pytest.raises(StoreError, match="needs a name"):
        sqlite_store.audit.append("", {})
    assert sqlite_store.audit.verify().count == 0


def test_unicode_data_round_trips(sqlite_store: Store) -> None:
    sqlite_store.audit.append("note", {"text": "Zoë → ✓", "n": [1, 2.5, None, True]}, run_id="r")
    [entry] = sqlite_store.audit.entries()
    assert entry.data == {"text": "Zoë → ✓", "n": [1, 2.5, None, True]}
    assert (entry.run_id, entry.seq) == ("r", 1)
    assert sqlite_store.audit.verify().ok
