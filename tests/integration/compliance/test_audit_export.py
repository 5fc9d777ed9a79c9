"""Audit report generation against the real store (SQLite and PostgreSQL): an export that verifies,
and the tampering and emptiness that must not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from golive.tasks.compliance.audit_export import export_audit, verify_export

pytestmark = pytest.mark.integration


def _actions(store: Any, n: int = 5) -> None:
    for i in range(n):
        store.audit.append("step.start", {"step": f"s{i}", "kind": "checklist"}, run_id="r1")
        store.audit.append("step.done", {"step": f"s{i}", "state": "completed"}, run_id="r1")


def test_a_period_exports_and_verifies(store: Any, tmp_path: Path) -> None:
    _actions(store)
    today = datetime.now(UTC).date()
    export = export_audit(store, today - timedelta(days=1), today, tmp_path / "audit.jsonl")
    assert export.passed, export.problems
    assert export.entries == 10 and export.events == {"step.start": 5, "step.done": 5}
    assert (export.first_seq, export.last_seq) == (1, 10)
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert json.loads(lines[0]["data"]) == {"kind": "checklist", "step": "s0"}  # the exact MAC'd text


def test_an_edited_export_fails(store: Any, tmp_path: Path) -> None:
    _actions(store)
    today = datetime.now(UTC).date()
    path = tmp_path / "audit.jsonl"
    export_audit(store, today, today, path)
    lines = path.read_text().splitlines()
    edited = json.loads(lines[3])
    edited["hash"] = "0" * 64
    lines[3] = json.dumps(edited)
    path.write_text("\n".join(lines) + "\n")
    result = verify_export(store, path, today, today)
    assert not result.passed and result.problems == ("export line 4: entry 4 differs from the store",)
    del lines[3]
    path.write_text("\n".join(lines) + "\n")
    assert verify_export(store, path, today, today).problems == ("export line 4: entry 5 out of sequence (expected 4)",)


def test_a_tampered_log_fails_even_when_the_export_matches(store: Any, tmp_path: Path) -> None:
    _actions(store)
    with store.connection() as conn:
        conn.execute(text("UPDATE audit_log SET data = :d WHERE seq = 2"), {"d": '{"step":"s0","state":"failed"}'})
    today = datetime.now(UTC).date()
    export = export_audit(store, today, today, tmp_path / "audit.jsonl")
    assert not export.passed and "does not verify at entry 2" in export.problems[0]


def test_an_empty_period_is_not_verified(store: Any, tmp_path: Path) -> None:
    _actions(store)
    export = export_audit(store, datetime(2020, 1, 1).date(), datetime(2020, 1, 31).date(), tmp_path / "old.jsonl")
    assert export.entries == 0 and not export.verified and not export.passed


def test_a_period_without_actions_fails(store: Any, tmp_path: Path) -> None:
    store.audit.append("notify", {"to": ["VP of IT"]})
    today = datetime.now(UTC).date()
    export = export_audit(store, today, today, tmp_path / "a.jsonl")
    assert export.problems == ("no recorded actions (step starts) in the range",)
