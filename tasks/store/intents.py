"""Intents: effects outside the store (a DICOM send, a PMS upload, a platform API call), exactly once.

The store cannot commit an effect in another system together with the step result, so each such
kind records an *intent* first (migration 0013_intents):

1. `begin(store, key, ...)` commits the row as `intended` BEFORE the external call and returns
   what an earlier attempt left (a resume finds its own row: the key includes the run key).
2. The kind makes the call so that a repeat is harmless: it reads the receiver first
   (read-before-write: is the image there already?) or hands the receiver the key so the receiver
   de-duplicates (an `Idempotency-Key` header, a marker in a document description).
3. `advance(..., REMOVING, evidence)` (kinds that remove a test artefact again) commits the
   evidence before the removal, so a resume finishes the removal instead of making a second one.
4. `advance(..., DONE, evidence)` commits the outcome; a resume reports it and calls nothing.

The delivery ledger (`deliveries`, tasks/delivery) predates this table and keeps its own rows for
messages; the shape and the protocol are the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime
from golive.tasks.store.upsert import upsert_statement

if TYPE_CHECKING:
    from golive.tasks.store.store import Store


class IntentState(StrEnum):
    INTENDED = "intended"  # committed before the call: the effect may or may not exist
    REMOVING = "removing"  # the effect exists and its evidence is recorded; its test artefact is being removed
    DONE = "done"  # the outcome (evidence) is recorded; nothing is called again for this key


class IntentRow(Base):
    __tablename__ = "intents"
    __table_args__ = (Index("ix_intents_run", "run_key", "step_key"),)

    idem_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex, see `intent_key`
    run_key: Mapped[str] = mapped_column(String(255))
    step_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON, PHI-free (what the step would report)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Intent:
    key: str
    state: IntentState
    evidence: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False  # True: the row existed before this attempt (an earlier attempt's intent)

    @property
    def short(self) -> str:
        """The first 32 hex digits: what is handed to a receiver (Idempotency-Key, a marker)."""
        return self.key[:32]


def intent_key(run_key: str, step_key: str, kind: str, *parts: str) -> str:
    """One key per (run key, step, kind, what the effect is about): a resume of the run finds its own
    intent; another run key makes its own effect."""
    return hashlib.sha256("\x1f".join((run_key, step_key, kind, *parts)).encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def begin(store: Store, key: str, *, run_key: str, step_key: str, kind: str) -> Intent:
    """Commit the key as `intended` (unless recorded already) and return its recorded state.

    `ON CONFLICT DO NOTHING`: two attempts recording one key at once both find the one row.
    """
    now = _now()
    stmt = upsert_statement(store.dialect, cast(Table, IntentRow.__table__), ["idem_key"], [])
    with store.session() as s:
        existed = s.get(IntentRow, key) is not None
        if not existed:
            s.execute(stmt, {"idem_key": key, "run_key": run_key, "step_key": step_key, "kind": kind,
                             "state": IntentState.INTENDED.value, "evidence": "{}", "created_at": now,
                             "updated_at": now})
        row = s.get(IntentRow, key)
        assert row is not None
        return Intent(key, IntentState(row.state), _load(row.evidence), resumed=existed)


def lookup(store: Store, key: str) -> Intent | None:
    with store.session(readonly=True) as s:
        row = s.get(IntentRow, key)
        return None if row is None else Intent(key, IntentState(row.state), _load(row.evidence), resumed=True)


def advance(store: Store, key: str, state: IntentState, evidence: dict[str, Any]) -> Intent:
    """Record the intent's next state and its evidence (committed when this returns)."""
    with store.session() as s:
        row = s.get(IntentRow, key)
        if row is None:
            raise KeyError(f"no intent {key[:16]} recorded")
        row.state = state.value
        row.evidence = json.dumps(evidence, sort_keys=True, default=str)
        row.updated_at = _now()
    return Intent(key, state, evidence, resumed=False)


def _load(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
