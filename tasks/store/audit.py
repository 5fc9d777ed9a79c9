"""The hash-chained audit log.

Entry N carries `hash = HMAC-SHA256(key, canonical JSON [seq, ts, event, run_id, data, prev_hash])`
where `prev_hash` is entry N-1's hash (64 zeros for entry 1), `ts` an ISO-8601 UTC string and
`data` the canonical JSON text of the caller's dict, both stored exactly as MAC'd. A single
checkpoint row (`audit_head`: last seq and hash, MAC'd, plus a MAC of a fixed string that
identifies the key) is updated in the same transaction as each append, so changing a byte,
deleting, reordering or cutting off the newest entries is detected, and so is a wrong key.
Not covered: an attacker holding the key, or one who deletes the whole log *and* its checkpoint
(compare `count` against an external record for that).

PHI: `data` is stored as given and is readable by anyone with database access. Callers must pass
pseudonymous values only (step keys, counts, role names, hashed or synthetic identifiers), never
patient names, birth dates or patient IDs.

Appends are serialised across threads and processes: SQLite by `BEGIN IMMEDIATE` (plus an
in-process lock), PostgreSQL by `pg_advisory_xact_lock`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.sql.expression import Executable

from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import AuditTampered, StoreError
from golive.tasks.foundation.secrets import is_reference, resolve
from golive.tasks.store.models import AuditEntryRow, AuditHeadRow

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


class Transactions(Protocol):
    """What the audit log needs of the store it lives in (the store passes itself; no import cycle)."""

    dialect: str

    def connection(self, *, readonly: bool = False) -> AbstractContextManager[Connection]: ...

    def joined_unit(self) -> Any: ...

    def session(self, *, readonly: bool = False) -> AbstractContextManager[Session]: ...

log = logging.getLogger(__name__)

ENV_KEY = "GOLIVE_AUDIT_KEY"
KEY_FILE = "audit.key"
GENESIS = "0" * 64
HEAD_ID = 1
APPEND_LOCK = 0x676F6C6976_02  # pg_advisory_xact_lock key for appends ("golive" 02)
_KEY_CHECK_MSG = b"golive audit key check v1"

# Prebuilt statements: appends are on every step's path, so skip per-call statement building.
_ENTRIES = cast(Table, AuditEntryRow.__table__)
_HEAD = cast(Table, AuditHeadRow.__table__)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_SELECT_HEAD = select(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.key_check).where(_HEAD.c.id == HEAD_ID)
_INSERT_ENTRY = insert(_ENTRIES)
_INSERT_HEAD = insert(_HEAD)
_UPDATE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"), mac=bindparam("new_mac"))
)


@dataclass(frozen=True)
class AuditVerification:
    """Result of `AuditLog.verify()`: `count` entries verified before `first_bad_seq` (if any)."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    event: str
    run_id: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_mac(
    key: bytes, seq: int, ts: str, event: str, run_id: str | None, data: str, prev_hash: str
) -> str:
    message = canonical_json([seq, ts, event, run_id, data, prev_hash]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    return hmac.new(key, canonical_json(["audit_head", seq, last_hash]).encode(), hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    return hmac.new(key, _KEY_CHECK_MSG, hashlib.sha256).hexdigest()


def fingerprint(key: bytes) -> str:
    """A short public name for a key (the start of its key check): safe to print and compare."""
    return key_check(key)[:16]


def key_source(state_dir: Path | None = None) -> str:
    """Where `load_key` takes the key from, in words (for messages; never the key itself)."""
    env = os.environ.get(ENV_KEY, "").strip()
    if is_reference(env):
        return f"{ENV_KEY}={env}"
    if env:
        return f"the value of {ENV_KEY}"
    return f"the key file {(state_dir or paths.state_dir()) / KEY_FILE}"


def load_key(state_dir: Path | None = None) -> bytes:
    """The installation's audit key.

    `GOLIVE_AUDIT_KEY` holds a secret reference (`env:NAME` or `prefect-secret:NAME`: one key
    for every worker of a shared installation) or, for compatibility, the key itself; unset, the
    single-user default `<state dir>/audit.key` (32 random bytes, hex, created 0600 once).
    """
    env = os.environ.get(ENV_KEY, "")
    if is_reference(env.strip()):
        return resolve(env.strip(), f"the audit key ({ENV_KEY})").reveal().strip().encode()
    if env.strip():
        return env.strip().encode()
    path = (state_dir or paths.state_dir()) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise StoreError(f"cannot create the audit key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    log.info("created audit key %s", path)
    return _read_key_file(path)


def existing_key(state_dir: Path | None = None) -> bytes:
    """The audit key if it exists (`GOLIVE_AUDIT_KEY` or the key file); never creates one.

    Verification must not mint a key: a new key would make every existing entry fail as
    "altered" and hide the real cause, a deleted key file. StoreError names the missing file.
    """
    env = os.environ.get(ENV_KEY, "")
    if env.strip():
        return env.strip().encode()
    path = (state_dir or paths.state_dir()) / KEY_FILE
    if not path.exists():
        raise StoreError(f"the audit key is missing: no {ENV_KEY} and no key file {path}; "
                         "restore the key file (verification never creates one)")
    return _read_key_file(path)


def key_mismatch(mine: bytes, recorded_check: str, source: str) -> str:
    """The message for a worker whose key is not the one the store's audit log was written with."""
    return (f"this worker's audit key (fingerprint {fingerprint(mine)}, from {source}) is not the key this "
            f"store's audit log was written with (fingerprint {recorded_check[:16]}); refusing to write. "
            f"Every worker of a shared installation needs the same key: set {ENV_KEY}=prefect-secret:NAME "
            f"(or env:NAME) on each one")


def _read_key_file(path: Path) -> bytes:
    # Another process may have created the file an instant ago and not written it yet.
    for _ in range(50):
        try:
            content = path.read_text().strip()
        except OSError as exc:
            raise StoreError(f"cannot read the audit key file {path}: {exc.strerror}") from None
        if content:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                log.warning("audit key file %s is readable by others (mode %o); chmod 600 it", path, mode)
            return content.encode()
        time.sleep(0.02)
    raise StoreError(f"the audit key file {path} is empty")


@dataclass
class _Pending:
    """An entry waiting for the group commit that writes it."""

    event: str
    run_id: str | None
    data_text: str
    also: list[tuple[Executable, dict[str, Any]]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    seq: int = 0
    done: bool = False
    error: BaseException | None = None


class AuditLog:
    """Append-only, HMAC-chained event log stored beside the runs (`store.audit`)."""

    def __init__(self, store: Transactions, *, key: str | bytes | None = None) -> None:
        self._store = store
        self._key: bytes | None = key.encode() if isinstance(key, str) else key
        self.key_source = "the key given to the store"
        self._key_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._writer_lock = threading.Lock()
        self._queue: list[_Pending] = []

    def _get_key(self) -> bytes:
        with self._key_lock:
            if self._key is None:
                self.key_source = key_source()
                self._key = load_key()
            return self._key

    def fingerprint(self) -> str:
        """This process's key fingerprint (what `golive audit key` prints)."""
        return fingerprint(self._get_key())

    def recorded_fingerprint(self) -> str | None:
        """The fingerprint of the key the store's audit log was written with (None: no entry yet)."""
        with self._store.connection(readonly=True) as conn:
            head = conn.execute(_SELECT_HEAD).first()
        return None if head is None else str(head.key_check)[:16]

    def check_key(self) -> None:
        """Refuse (AuditTampered, a clear message) when this process's key is not the store's."""
        key = self._get_key()
        recorded = self.recorded_fingerprint()
        if recorded is not None and recorded != fingerprint(key):
            raise AuditTampered(key_mismatch(key, recorded, self.key_source))

    def append(self, event: str, data: Mapping[str, Any], *, run_id: str | None = None) -> int:
        """Append one entry and return its seq once it is committed. `data`: JSON-able, no PHI."""
        return self.append_with(event, data, run_id=run_id)[0]

    def append_with(self, event: str, data: Mapping[str, Any], *, run_id: str | None = None,
                    also: Sequence[tuple[Executable, dict[str, Any]]] = ()) -> tuple[int, list[Any]]:
        """Append one entry (and run `also` in the same transaction); return its seq and their results.

        `also` lets a step result and its audit entry land together or not at all. Group commit:
        while one thread writes, others queue their entries; the next writer commits everything
        queued in one transaction. Each caller returns only after its own entry is durable, and
        the chain order is the commit order.
        """
        mine = _Pending(event, run_id, self._text(event, data), list(also))
        self._commit([mine])
        return mine.seq, mine.results

    def append_group(self, entries: Sequence[tuple[str, Mapping[str, Any]]], *, run_id: str | None = None,
                     also: Sequence[tuple[Executable, dict[str, Any]]] = ()) -> list[Any]:
        """Append several (event, data) entries of one run and run `also` in the same transaction;
        return the results of `also` (a step's result and every audit entry of the step, together)."""
        pendings = [_Pending(event, run_id, self._text(event, data)) for event, data in entries]
        if not pendings:
            pendings = [_Pending("step.effects", run_id, self._text("step.effects", {}))]
        pendings[-1].also = list(also)
        self._commit(pendings)
        return pendings[-1].results

    def append_many(self, entries: Sequence[tuple[str, Mapping[str, Any], str | None]]) -> list[int]:
        """Append several (event, data, run_id) entries in one transaction, in order."""
        pendings = [_Pending(event, run_id, self._text(event, data)) for event, data, run_id in entries]
        self._commit(pendings)
        return [p.seq for p in pendings]

    @staticmethod
    def _text(event: str, data: Mapping[str, Any]) -> str:
        if not event:
            raise StoreError("an audit event needs a name")
        try:
            return canonical_json(dict(data))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"audit data for {event!r} is not JSON-serialisable: {exc}") from None

    def _commit(self, mine: list[_Pending]) -> None:
        """Group commit: queue `mine`; whoever holds the writer lock writes everything queued."""
        if not mine:
            return
        joined = getattr(self._store, "joined_unit", lambda: None)()
        if joined is not None:
            # Inside a step's joined transaction: write into it (via store.connection()), not into
            # a group commit that would carry other threads' entries into this step's transaction.
            self._write(mine)
            return
        with self._queue_lock:
            self._queue.extend(mine)
        with self._writer_lock:
            if not mine[-1].done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    self._write(batch)
                except BaseException as exc:
                    for pending in batch:
                        pending.error, pending.done = exc, True
                    raise
        for pending in mine:
            if pending.error is not None:
                raise pending.error

    def _write(self, batch: list[_Pending]) -> None:
        key = self._get_key()
        check = key_check(key)
        store = self._store
        with store.connection() as conn:  # SQLite: BEGIN IMMEDIATE
            if store.dialect == "postgresql":
                conn.execute(_PG_LOCK, {"k": APPEND_LOCK})
            head = conn.execute(_SELECT_HEAD).first()
            if head is not None and not hmac.compare_digest(head.key_check, check):
                raise AuditTampered(key_mismatch(key, head.key_check, self.key_source))
            seq = 0 if head is None else head.seq
            prev = GENESIS if head is None else head.hash
            rows = []
            for pending in batch:
                pending.results = [conn.execute(stmt, values) for stmt, values in pending.also]
                seq += 1
                ts = datetime.now(UTC).isoformat(timespec="microseconds")
                digest = entry_mac(key, seq, ts, pending.event, pending.run_id, pending.data_text, prev)
                rows.append({"seq": seq, "ts": ts, "event": pending.event, "run_id": pending.run_id,
                             "data": pending.data_text, "prev_hash": prev, "hash": digest})
                pending.seq = seq
                prev = digest
            conn.execute(_INSERT_ENTRY, rows)
            mac = head_mac(key, seq, prev)
            if head is None:
                conn.execute(_INSERT_HEAD, {"id": HEAD_ID, "seq": seq, "hash": prev, "mac": mac, "key_check": check})
            else:
                conn.execute(_UPDATE_HEAD, {"new_seq": seq, "new_hash": prev, "new_mac": mac})
        for pending in batch:
            pending.done = True

    def entries(self, *, run_id: str | None = None) -> list[AuditEntry]:
        stmt = select(AuditEntryRow).order_by(AuditEntryRow.seq)
        if run_id is not None:
            stmt = stmt.where(AuditEntryRow.run_id == run_id)
        with self._store.session(readonly=True) as s:
            return [
                AuditEntry(r.seq, r.ts, r.event, r.run_id, _loads(r.data), r.prev_hash, r.hash)
                for r in s.scalars(stmt)
            ]

    def verify(self) -> AuditVerification:
        """Walk the chain from entry 1; report the first entry that does not verify.

        Never creates a key (StoreError when it is missing): see `existing_key`."""
        with self._key_lock:
            key = self._key if self._key is not None else existing_key()
        cols = (
            AuditEntryRow.seq,
            AuditEntryRow.ts,
            AuditEntryRow.event,
            AuditEntryRow.run_id,
            AuditEntryRow.data,
            AuditEntryRow.prev_hash,
            AuditEntryRow.hash,
        )
        with self._store.session(readonly=True) as s:
            head = s.execute(
                select(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.key_check, AuditHeadRow.mac).where(
                    AuditHeadRow.id == HEAD_ID
                )
            ).first()
            if head is not None and not hmac.compare_digest(head.key_check, key_check(key)):
                return AuditVerification(
                    False, 0, 1, "the audit key does not match the key this log was written with"
                )
            rows = s.execute(select(*cols).order_by(AuditEntryRow.seq).execution_options(yield_per=1000))
            expected, prev, count = 1, GENESIS, 0
            for r in rows:
                bad = _check_entry(key, r, expected, prev)
                if bad is not None:
                    return AuditVerification(False, count, bad[0], bad[1])
                count, expected, prev = count + 1, expected + 1, r.hash
        last_seq = expected - 1
        if head is None:
            if last_seq == 0:
                return AuditVerification(True, 0)
            return AuditVerification(
                False,
                count,
                last_seq + 1,
                f"the audit checkpoint is missing (entries after {last_seq} may be gone)",
            )
        if not hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash)):
            return AuditVerification(
                False,
                count,
                last_seq + 1,
                f"the audit checkpoint was altered (entries after {last_seq} may be gone)",
            )
        if head.seq > last_seq:
            return AuditVerification(
                False, count, last_seq + 1, f"entries {last_seq + 1}..{head.seq} are missing (log truncated)"
            )
        if head.seq < last_seq:
            return AuditVerification(False, head.seq, head.seq + 1, "entry is past the audit checkpoint")
        if not hmac.compare_digest(head.hash, prev):
            return AuditVerification(False, count, last_seq, "entry does not match the audit checkpoint")
        return AuditVerification(True, count)


def _check_entry(key: bytes, r: Any, expected: int, prev: str) -> tuple[int, str] | None:
    if r.seq != expected:
        if r.seq > expected:
            return expected, f"entry missing (next entry is {r.seq})"
        return r.seq, "entry out of sequence"
    if not hmac.compare_digest(r.prev_hash, prev):
        what = "the start of the log" if expected == 1 else f"entry {expected - 1}"
        return expected, f"prev_hash does not match {what} (entry deleted, inserted or reordered)"
    mac = entry_mac(key, r.seq, r.ts, r.event, r.run_id, r.data, r.prev_hash)
    if not hmac.compare_digest(r.hash, mac):
        return expected, "HMAC mismatch (entry altered, or written with another key)"
    return None


def _loads(text_value: str) -> dict[str, Any]:
    try:
        value = json.loads(text_value)
    except ValueError:
        return {"_unparseable": text_value}
    return value if isinstance(value, dict) else {"_value": value}
