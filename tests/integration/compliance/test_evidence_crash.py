"""Fault injection: a process recording evidence is killed (SIGKILL) at the bad instant, inside the
transaction that writes the row and its audit entry (both inserted, nothing committed). After it,
the store holds neither half, the audit log verifies, no half-copied file lies under a final name,
and recording again succeeds once."""

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
    from pathlib import Path
    from golive.tasks.compliance import evidence
    from golive.tasks.store import Store, audit

    url, key, doc, root = sys.argv[1:5]
    store = Store.open(url, audit_key=key)
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    audit.head_mac = die  # called inside the transaction: rows inserted, checkpoint not written, nothing committed
    evidence.record_document(store, subject="baa", file=doc, supplied_by="Helen Marsh", role="Legal",
                             supplied_on=date(2026, 1, 6), root=Path(root))
""")


def test_killed_inside_the_transaction(store_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "baa.pdf"
    doc.write_text("executed agreement")
    root = tmp_path / "evidence"
    child = subprocess.run([sys.executable, "-c", CHILD, store_url, TEST_AUDIT_KEY, str(doc), str(root)],
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

