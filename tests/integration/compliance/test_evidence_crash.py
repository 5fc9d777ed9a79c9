"""Fault injection: a process recording evidence is killed (SIGKILL) at the bad instants, after the
file is copied but before the row is written, and inside the transaction that writes the row and
its audit entry. After either, the store holds neither half, the audit log verifies, and recording
again succeeds once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from store_fixtures import TEST_AUDIT_KEY

from golive.tasks.compliance import evidence
from golive.tasks.store import Store

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from golive.tasks.compliance import evidence
    from golive.tasks.store import Store, audit

    url, key, doc, root, instant = sys.argv[1:6]
    store = Store.open(url, audit_key=key)
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    if instant == "after-copy":
        keep = evidence._keep
        evidence._keep = lambda *a: (keep(*a), die())
    else:  # inside the transaction: rows inserted, checkpoint not yet written, nothing committed
        audit.head_mac = die
    evidence.record_document(store, subject="baa", file=doc, supplied_by="Helen Marsh", role="Legal",
                             supplied_on=date(2026, 1, 6), root=__import__("pathlib").Path(root))
""")


def _killed_then_recorded(store_url: str, tmp_path: Path, instant: str) -> None:
    doc = tmp_path / "baa.pdf"
    doc.write_text("executed agreement")
    root = tmp_path / "evidence"
    child = subprocess.run([sys.executable, "-c", CHILD, store_url, TEST_AUDIT_KEY, str(doc), str(root), instant],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    store = Store.open(store_url, audit_key=TEST_AUDIT_KEY)
    try:
        assert evidence.history(store) == []
        assert [e.event for e in store.audit.entries()] == [] and store.audit.verify().ok
        assert not list(root.glob(".part-*"))  # the copy is atomic: whole under its hash, or absent
        rec = evidence.record_document(store, subject="baa", file=doc, supplied_by="Helen Marsh", role="Legal",
                                       supplied_on=date(2026, 1, 6), root=root)
        assert evidence.stored_file(rec, root).read_text() == "executed agreement"
        assert len(evidence.history(store)) == 1 and [e.event for e in store.audit.entries()] == ["compliance.evidence"]
        assert store.audit.verify().ok
    finally:
        store.dispose()


def test_killed_inside_the_transaction(store_url: str, tmp_path: Path) -> None:
    _killed_then_recorded(store_url, tmp_path, "in-transaction")


def test_killed_after_the_copy(tmp_path: Path, golive_home: Path) -> None:
    _killed_then_recorded(f"sqlite:///{tmp_path / 'store.db'}", tmp_path, "after-copy")
