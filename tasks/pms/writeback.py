"""Idempotent treatment-plan write-back.

1. The idempotency key (runbook, location, step, patient pseudonym, plan version) is committed to
   the store as `pending` before the PMS is called.
2. Each attempt reads the patient's plans first and looks for the key's marker in the plan note:
   a plan that an earlier attempt created (its response lost) is found instead of duplicated.
3. Procedures are attached the same way (read, then attach what is missing).
4. The row becomes `written` with the plan number; later calls with the same key return it.
5. The write-back check then records `removing` (with its evidence) before it deletes the test plan
   and `removed` after; a resumed run finds the row and finishes or reports the removal instead of
   writing a second plan (battery.writeback_check). The run key is part of the key, so another run
   does its own check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table

from golive.tasks.pms.protocol import PmsConfigError, PmsConnector, PmsNotSupported, TreatmentPlan
from golive.tasks.pms.records import PmsWritebackRow
from golive.tasks.pms.retry import RetryPolicy, write_once
from golive.tasks.store.upsert import upsert_statement

log = logging.getLogger(__name__)
MARKER_PREFIX = "golive-idem:"


@dataclass(frozen=True)
class WritebackKey:
    runbook: str
    location: str
    step: str
    patient_pseudonym: str
    plan_version: str
    run_key: str = ""  # empty: the key of a write outside a run (digest as before run keys were added)

    @property
    def digest(self) -> str:
        parts: tuple[str, ...] = (self.runbook, self.location, self.step, self.patient_pseudonym, self.plan_version)
        if self.run_key:
            parts += (self.run_key,)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @property
    def marker(self) -> str:
        return MARKER_PREFIX + self.digest[:32]


@dataclass(frozen=True)
class WritebackResult:
    idem_key: str
    plan_id: str
    created: bool  # False: found (an earlier attempt or run already wrote it)
    attached: int
    attach_supported: bool
    attach_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"idem_key": self.idem_key[:16], "plan_id": self.plan_id, "created": self.created,
                "attached": self.attached, "attach_supported": self.attach_supported,
                "attach_reason": self.attach_reason}


def _now() -> datetime:
    return datetime.now(UTC)


def _record_pending(store: Any, key: WritebackKey, system: str) -> PmsWritebackRow | None:
    """Insert the key as pending (committed before any PMS call); return an existing finished row.

    `ON CONFLICT DO NOTHING`: a second worker recording the same key at once finds the row
    instead of failing on the primary key.
    """
    now = _now()
    stmt = upsert_statement(store.dialect, cast(Table, PmsWritebackRow.__table__), ["idem_key"], [])
    with store.session() as s:
        s.execute(stmt, {
            "idem_key": key.digest, "runbook": key.runbook, "location": key.location, "step": key.step,
            "patient_pseudonym": key.patient_pseudonym, "plan_version": key.plan_version, "system": system,
            "state": "pending", "remote_plan_id": None, "attached": 0, "detail": "", "created_at": now,
            "updated_at": now})
        row = s.get(PmsWritebackRow, key.digest)
        return row if row is not None and row.state == "written" and row.remote_plan_id else None


def _update(store: Any, key: WritebackKey, **values: Any) -> None:
    with store.session() as s:
        row = s.get(PmsWritebackRow, key.digest)
        if row is not None:
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = _now()


def find_plan(conn: PmsConnector, patient_id: str, marker: str) -> TreatmentPlan | None:
    return next((p for p in conn.treatment_plans(patient_id) if marker in (p.note or "")), None)


def write_back(
    conn: PmsConnector,
    store: Any,
    key: WritebackKey,
    patient_id: str,
    heading: str,
    procedure_ids: Sequence[str] = (),
    *,
    policy: RetryPolicy = RetryPolicy(attempts=10),
    sleep: Callable[[float], None] = time.sleep,
) -> WritebackResult:
    if store is None:
        raise PmsConfigError("write-back needs the store: its idempotency key is recorded before the call")
    done = _record_pending(store, key, conn.system)
    if done is not None:
        return WritebackResult(key.digest, str(done.remote_plan_id), False, done.attached, True)
    note = f"golive integration test plan; safe to delete. {key.marker}"
    try:
        plan, created = write_once(
            find=lambda: find_plan(conn, patient_id, key.marker),
            create=lambda: conn.create_treatment_plan(patient_id, heading, note),
            policy=policy, sleep=sleep,
        )
        _update(store, key, remote_plan_id=plan.plan_id)
        attached, supported, reason = 0, True, ""
        if procedure_ids:
            try:
                conn.attach_procedures(plan.plan_id, procedure_ids)
                attached = len(procedure_ids)
            except PmsNotSupported as exc:
                supported, reason = False, str(exc)
        _update(store, key, state="written", attached=attached, detail=reason[:500])
    except Exception as exc:
        _update(store, key, state="failed", detail=f"{type(exc).__name__}: {exc}"[:500])
        raise
    log.info("treatment plan written back (created=%s, attached=%d)", created, attached)
    return WritebackResult(key.digest, plan.plan_id, created, attached, supported, reason)


def recorded(store: Any, key: WritebackKey) -> tuple[str, dict[str, Any]] | None:
    """The key's committed state and the evidence `mark_removing` recorded (None: never recorded,
    or no store)."""
    if store is None:
        return None
    with store.session(readonly=True) as s:
        row = s.get(PmsWritebackRow, key.digest)
        return None if row is None else (row.state, _facts(row.detail))


def mark_removing(store: Any, key: WritebackKey, facts: dict[str, Any]) -> None:
    """Committed before the test plan is deleted: a resume finishes the removal, never writes again."""
    _update(store, key, state="removing", detail=json.dumps(facts, sort_keys=True)[:500])


def mark_removed(store: Any, key: WritebackKey, facts: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"state": "removed"}
    if facts is not None:
        values["detail"] = json.dumps(facts, sort_keys=True)[:500]
    _update(store, key, **values)


def _facts(detail: str | None) -> dict[str, Any]:
    try:
        facts = json.loads(detail or "{}")
    except ValueError:  # a `failed` row's detail is plain text
        return {}
    return facts if isinstance(facts, dict) else {}
