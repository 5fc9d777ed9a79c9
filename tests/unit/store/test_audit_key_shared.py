"""One audit key for a shared installation (issue 18): a secret reference, a recorded
fingerprint, and a clear refusal for a worker whose key is another one."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.foundation.errors import AuditTampered
from golive.tasks.foundation.secrets import SecretUnavailable
from golive.tasks.store import Store
from golive.tasks.store.audit import fingerprint, key_source, load_key


def test_env_reference_names_the_variable_holding_the_key(golive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "env:DSO_AUDIT_KEY")
    monkeypatch.setenv("DSO_AUDIT_KEY", "the-installation-key\n")
    assert load_key() == b"the-installation-key"
    assert key_source() == "GOLIVE_AUDIT_KEY=env:DSO_AUDIT_KEY"
    assert not (golive_home / "audit.key").exists()  # no per-host file next to a shared key


def test_unset_reference_is_a_clear_error(golive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "env:DSO_AUDIT_KEY_MISSING")
    monkeypatch.delenv("DSO_AUDIT_KEY_MISSING", raising=False)
    with pytest.raises(SecretUnavailable, match="GOLIVE_AUDIT_KEY.*DSO_AUDIT_KEY_MISSING is not set"):
        load_key()


def test_worker_with_another_key_refuses_to_write(golive_home: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "env:DSO_AUDIT_KEY")
    monkeypatch.setenv("DSO_AUDIT_KEY", "the-installation-key")
    first = Store.open(url)
    first.audit.append("run.start", {"n": 1})
    assert first.audit.recorded_fingerprint() == fingerprint(b"the-installation-key")
    first.audit.check_key()  # the same key: fine
    first.dispose()

    monkeypatch.delenv("GOLIVE_AUDIT_KEY")  # a worker that fell back to its own key file
    stray = Store(url)
    with pytest.raises(AuditTampered) as err:
        stray.audit.check_key()
    message = str(err.value)
    assert fingerprint(b"the-installation-key") in message and fingerprint(load_key()) in message
    assert str(golive_home / "audit.key") in message and "GOLIVE_AUDIT_KEY=prefect-secret:NAME" in message
    with pytest.raises(AuditTampered, match="refusing to write"):
        stray.audit.append("run.start", {"n": 2})
    assert len(stray.audit.entries()) == 1  # nothing written
    stray.dispose()


def test_fresh_store_has_no_fingerprint_yet(store: Store) -> None:
    assert store.audit.recorded_fingerprint() is None
    store.audit.check_key()
    store.audit.append("e", {})
    assert store.audit.recorded_fingerprint() == store.audit.fingerprint()
