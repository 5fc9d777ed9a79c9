"""Evidence: files stored with their SHA-256, who supplied them and when, in the store and on disk.

A document (the executed BAA, a vendor attestation) is copied, content-addressed, into
`GOLIVE_HOME/evidence/<sha256><suffix>`; an automated check's report is written there as JSON and
hashed the same way. The row and its audit entry commit together (`AuditLog.append_with`), so the
audit log never names evidence the store lacks. Recording the same file for the same subject and
location again finds the existing row: re-runs and repeated `golive compliance evidence add` are
idempotent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from golive.tasks.compliance.records import EvidenceRow
from golive.tasks.compliance.requirements import check_subject
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import StoreError, UserInputError
from golive.tasks.store import Store

_CHUNK = 1 << 20


class Kind(str, Enum):
    DOCUMENT = "document"  # a file a person supplied
    CHECK = "check"  # an automated check's report
    REQUEST = "request"  # an action the group waits on (a vendor's), due by `expires_on`


class Outcome(str, Enum):
    ACCEPTED = "accepted"  # a document on record
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"  # a request not yet answered


@dataclass(frozen=True)
class Evidence:
    id: int
    subject: str
    location: str  # "" for the whole organization
    kind: Kind
    outcome: Outcome
    sha256: str
    file_name: str
    size: int
    supplied_by: str
    supplied_role: str
    supplied_on: date
    expires_on: date | None
    recorded_at: datetime
    run_id: str | None
    summary: Mapping[str, Any] = field(default_factory=dict)

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "subject": self.subject, "location": self.location or None, "kind": self.kind.value,
                "outcome": self.outcome.value, "sha256": self.sha256, "file": self.file_name, "size": self.size,
                "supplied_by": self.supplied_by, "role": self.supplied_role,
                "supplied_on": self.supplied_on.isoformat(),
                "expires_on": self.expires_on.isoformat() if self.expires_on else None,
                "recorded_at": self.recorded_at.isoformat(), "run_id": self.run_id, "summary": dict(self.summary)}


def evidence_dir() -> Path:
    return paths.state_dir() / "evidence"


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _keep(source: Path, digest: str, root: Path) -> Path:
    """Copy `source` to `root/<digest><suffix>` atomically (a crash leaves no half file under that name)."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{digest}{source.suffix.lower()}"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".part-")
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return target


def stored_file(record: Evidence, root: Path | None = None) -> Path:
    """Where the evidence file of `record` is kept."""
    return (root or evidence_dir()) / f"{record.sha256}{Path(record.file_name).suffix.lower()}"


def record_document(store: Store, *, subject: str, file: str | Path, supplied_by: str, role: str,
                    supplied_on: date, expires_on: date | None = None, location: str = "", note: str = "",
                    run_id: str | None = None, root: Path | None = None, now: datetime | None = None) -> Evidence:
    """Store a supplied document as evidence for `subject` (a requirement id or another subject)."""
    check_subject(subject)
    source = Path(file)
    if not source.is_file():
        raise UserInputError(f"{source}: no such evidence file")
    if not supplied_by.strip() or not role.strip():
        raise UserInputError("evidence needs who supplied it: a name and a role")
    if expires_on is not None and expires_on <= supplied_on:
        raise UserInputError(f"{source.name}: expires on {expires_on} but was supplied on {supplied_on}")
    digest, size = sha256_file(source)
    _keep(source, digest, root or evidence_dir())
    return _insert(store, subject=subject, location=location, kind=Kind.DOCUMENT, outcome=Outcome.ACCEPTED,
                   sha256=digest, file_name=source.name, size=size, supplied_by=supplied_by.strip(),
                   supplied_role=role.strip(), supplied_on=supplied_on, expires_on=expires_on,
                   run_id=run_id, summary={"note": note} if note else {}, now=now)


def record_check(store: Store, *, subject: str, passed: bool, report: Mapping[str, Any], location: str = "",
                 run_id: str | None = None, on: date | None = None, root: Path | None = None,
                 now: datetime | None = None, summary: Mapping[str, Any] | None = None) -> Evidence:
    """Keep an automated check's report (JSON, hashed) as evidence of `subject` at `location`."""
    check_subject(subject)
    moment = now or datetime.now(UTC)
    text = json.dumps({"subject": subject, "location": location or None, "passed": passed,
                       "checked_at": moment.isoformat(), "run_id": run_id, "report": report},
                      sort_keys=True, indent=1, default=str)
    data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    target_root = root or evidence_dir()
    target_root.mkdir(parents=True, exist_ok=True)
    name = f"{subject}{'-' + location if location else ''}-check.json"
    target = target_root / f"{digest}.json"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target_root, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    return _insert(store, subject=subject, location=location, kind=Kind.CHECK,
                   outcome=Outcome.PASSED if passed else Outcome.FAILED, sha256=digest, file_name=name,
                   size=len(data), supplied_by="golive (automated check)", supplied_role="golive",
                   supplied_on=on or moment.date(), expires_on=None, run_id=run_id,
                   summary=dict(summary or {}), now=moment)


def record_request(store: Store, *, subject: str, location: str, requested_by: str, role: str,
                   requested_on: date, due_on: date | None, done: bool = False, note: str = "",
                   run_id: str | None = None, now: datetime | None = None) -> Evidence:
    """Record an action the group waits on (e.g. Patterson enabling the Eaglesoft API), due `due_on`;
    with `done`, that it happened (the reminders stop)."""
    check_subject(subject)
    if due_on is not None and due_on < requested_on:
        raise UserInputError(f"{subject}: due on {due_on}, before it was requested ({requested_on})")
    key = f"{subject}|{location}|{requested_on.isoformat()}|{'done' if done else 'requested'}"
    digest = hashlib.sha256(key.encode()).hexdigest()  # one request (and one answer) per subject, location and day
    return _insert(store, subject=subject, location=location, kind=Kind.REQUEST,
                   outcome=Outcome.ACCEPTED if done else Outcome.PENDING, sha256=digest, file_name="", size=0,
                   supplied_by=requested_by, supplied_role=role, supplied_on=requested_on,
                   expires_on=None if done else due_on, run_id=run_id, summary={"note": note} if note else {}, now=now)


def _insert(store: Store, *, now: datetime | None, **values: Any) -> Evidence:
    existing = _find(store, values["subject"], values["location"], values["kind"], values["sha256"])
    if existing is not None:
        return existing
    row = {**values, "kind": values["kind"].value, "outcome": values["outcome"].value,
           "recorded_at": now or datetime.now(UTC)}
    audit = {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()
             if k in ("subject", "location", "kind", "outcome", "sha256", "file_name", "supplied_by", "supplied_role",
                      "supplied_on", "expires_on")}
    try:
        _seq, results = store.audit.append_with("compliance.evidence", audit, run_id=values.get("run_id"),
                                                also=[(insert(EvidenceRow), row)])
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):  # recorded concurrently by another process
            found = _find(store, values["subject"], values["location"], values["kind"], values["sha256"])
            if found is not None:
                return found
        raise
    found = _find(store, values["subject"], values["location"], values["kind"], values["sha256"])
    assert found is not None, results
    return found


def _find(store: Store, subject: str, location: str, kind: Kind, sha256: str) -> Evidence | None:
    stmt = select(EvidenceRow).where(EvidenceRow.subject == subject, EvidenceRow.location == location,
                                     EvidenceRow.kind == kind.value, EvidenceRow.sha256 == sha256)
    with store.session(readonly=True) as s:
        row = s.scalars(stmt).first()
        return _evidence(row) if row is not None else None


def history(store: Store, *, subject: str | None = None, location: str | None = None) -> list[Evidence]:
    """Every evidence row, oldest first (optionally one subject, one location)."""
    stmt = select(EvidenceRow).order_by(EvidenceRow.recorded_at, EvidenceRow.id)
    if subject is not None:
        stmt = stmt.where(EvidenceRow.subject == subject)
    if location is not None:
        stmt = stmt.where(EvidenceRow.location == location)
    with store.session(readonly=True) as s:
        return [_evidence(r) for r in s.scalars(stmt)]


def latest(records: list[Evidence]) -> dict[tuple[str, str, Kind], Evidence]:
    """The newest record per (subject, location, kind) of `records` (as `history` returns them)."""
    newest: dict[tuple[str, str, Kind], Evidence] = {}
    for r in records:
        newest[(r.subject, r.location, r.kind)] = r  # oldest first: later rows replace earlier ones
    return newest


def _evidence(r: EvidenceRow) -> Evidence:
    return Evidence(id=r.id, subject=r.subject, location=r.location, kind=Kind(r.kind), outcome=Outcome(r.outcome),
                    sha256=r.sha256, file_name=r.file_name, size=r.size, supplied_by=r.supplied_by,
                    supplied_role=r.supplied_role, supplied_on=r.supplied_on, expires_on=r.expires_on,
                    recorded_at=r.recorded_at, run_id=r.run_id, summary=dict(r.summary or {}))
