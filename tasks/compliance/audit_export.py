"""Audit report generation, verified: golive's own audit log for a date range, exported and checked.

The export is JSON Lines, one entry per line with the exact text that was MAC'd (`data`), so anyone
holding the audit key can re-verify it. The check passes only when
- the whole hash chain verifies (`AuditLog.verify`: nothing changed, deleted, reordered or cut off);
- the exported file, read back, is contiguous, links each entry to the previous one, and matches
  the store entry for entry;
- the range holds entries at all (an empty range is "not verified", never a pass), and among them
  recorded actions (step starts), which is what "the audit trail captures actions" asks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.store import Store
from golive.tasks.store.audit import GENESIS
from golive.tasks.store.models import AuditEntryRow

ACTION_EVENTS = ("step.start",)


@dataclass(frozen=True)
class AuditExport:
    path: Path
    start: date
    end: date
    entries: int
    first_seq: int | None
    last_seq: int | None
    sha256: str
    events: dict[str, int]
    problems: tuple[str, ...]  # why it does not verify; empty when it does
    verified: bool  # False also when there was nothing to verify

    @property
    def passed(self) -> bool:
        return self.verified and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "start": self.start.isoformat(), "end": self.end.isoformat(),
                "entries": self.entries, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "sha256": self.sha256, "events": self.events, "passed": self.passed, "verified": self.verified,
                "problems": list(self.problems)}


def _bounds(start: date, end: date) -> tuple[str, str]:
    if end < start:
        raise UserInputError(f"audit export: the range ends ({end}) before it starts ({start})")
    lo = datetime.combine(start, time(0), tzinfo=UTC).isoformat(timespec="microseconds")
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC).isoformat(timespec="microseconds")
    return lo, hi  # entries store `ts` as this exact ISO form, so text order is time order


def export_audit(store: Store, start: date, end: date, target: Path) -> AuditExport:
    """Write the entries of [start, end] (UTC days) to `target` (JSON Lines), then verify it."""
    lo, hi = _bounds(start, end)
    cols = (AuditEntryRow.seq, AuditEntryRow.ts, AuditEntryRow.event, AuditEntryRow.run_id, AuditEntryRow.data,
            AuditEntryRow.prev_hash, AuditEntryRow.hash)
    stmt = select(*cols).where(AuditEntryRow.ts >= lo, AuditEntryRow.ts < hi).order_by(AuditEntryRow.seq)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(target.suffix + ".part")
    with store.session(readonly=True) as s, part.open("w", encoding="utf-8") as f:
        for r in s.execute(stmt):
            f.write(json.dumps({"seq": r.seq, "ts": r.ts, "event": r.event, "run_id": r.run_id, "data": r.data,
                                "prev_hash": r.prev_hash, "hash": r.hash}, sort_keys=True) + "\n")
    os.replace(part, target)
    return verify_export(store, target, start, end)


def verify_export(store: Store, path: Path, start: date, end: date) -> AuditExport:
    """Check an exported file against the store and the chain (see the module docstring)."""
    problems: list[str] = []
    chain = store.audit.verify()
    if not chain.ok:
        problems.append(f"the audit chain does not verify at entry {chain.first_bad_seq}: {chain.reason}")
    data = path.read_bytes()
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    events = Counter(str(e["event"]) for e in lines)
    first = int(lines[0]["seq"]) if lines else None
    last = int(lines[-1]["seq"]) if lines else None
    if first is not None and last is not None:
        stored = _stored(store, first, last)
        prev = _stored(store, first - 1, first - 1).get(first - 1, GENESIS) if first > 1 else GENESIS
        for i, entry in enumerate(lines):
            seq = int(entry["seq"])
            if seq != first + i:
                problems.append(f"export line {i + 1}: entry {seq} out of sequence (expected {first + i})")
                break
            if entry["prev_hash"] != prev:
                problems.append(f"export line {i + 1}: entry {seq} does not link to the entry before it")
                break
            if stored.get(seq) != entry["hash"]:
                problems.append(f"export line {i + 1}: entry {seq} differs from the store")
                break
            prev = entry["hash"]
        if not any(events[e] for e in ACTION_EVENTS):
            problems.append("no recorded actions (step starts) in the range")
    return AuditExport(path, start, end, len(lines), first, last, hashlib.sha256(data).hexdigest(), dict(events),
                       tuple(problems), verified=bool(lines))


def _stored(store: Store, first: int, last: int) -> dict[int, str]:
    if last < 1:
        return {}
    stmt = select(AuditEntryRow.seq, AuditEntryRow.hash).where(AuditEntryRow.seq >= first, AuditEntryRow.seq <= last)
    with store.session(readonly=True) as s:
        return {int(seq): str(h) for seq, h in s.execute(stmt)}
