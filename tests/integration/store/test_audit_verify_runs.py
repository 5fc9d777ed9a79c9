"""`audit verify` against the runs: never creates a key; an emptied log or an unaudited run fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from golive.tasks.foundation.errors import StoreError
from golive.tasks.store import Store, verify_report

pytestmark = pytest.mark.integration


def _run(store: Store, run_id: str, audited: bool = True) -> None:
    store.start_run(run_id=run_id, run_key=f"k-{run_id}", runbook="b", parameters={})
    if audited:
        store.audit.append("run.start", {"runbook": "b"}, run_id=run_id)


def test_deleted_log_and_checkpoint_fail_when_runs_exist(store: Store) -> None:
    _run(store, "r1")
    assert verify_report(store) == (0, "1 audit entries verified")
    with store.session() as s:
        s.execute(text("DELETE FROM audit_log"))
        s.execute(text("DELETE FROM audit_head"))
    assert verify_report(store) == (1, "the audit log and its checkpoint are missing, but the store holds 1 run(s)")


def test_a_run_without_audit_entries_fails(store: Store) -> None:
    _run(store, "r1")
    _run(store, "r2", audited=False)
    assert verify_report(store) == (1, "run r2 has no audit entries")


def test_verify_never_creates_a_key(store_url: str, golive_home: Path) -> None:
    writer = Store.open(store_url)  # no key given: the first append creates the key file
    _run(writer, "r1")
    writer.dispose()
    key_file = golive_home / "audit.key"
    assert key_file.exists()
    key_file.unlink()
    reader = Store.open(store_url)
    try:
        with pytest.raises(StoreError, match="the audit key is missing"):
            reader.audit.verify()
        assert not key_file.exists(), "verify created a key"
    finally:
        reader.dispose()
