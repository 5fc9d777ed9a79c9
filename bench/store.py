"""Store benchmark: hash-chained audit appends and step records on SQLite, each against plain
un-chained INSERTs into an identical table measured in the same run (same engine, prebuilt Core
INSERT, one transaction per row, as the engine writes them)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, insert, select

from golive.tasks.store import Store
from golive.tasks.store.models import AuditEntryRow, StepResultRow

N = 2000
ROUNDS = 4


def _plain_table(model: type, name: str, metadata: MetaData) -> Table:
    src = model.__table__  # type: ignore[attr-defined]
    return Table(name, metadata, *(c._copy() for c in src.columns))


def _timed(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return time.perf_counter() - start


def main() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="golive-bench-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}", audit_key="bench-key")
        try:
            return _run(store)
        finally:
            store.dispose()


def _run(store: Store) -> list[str]:
    meta = MetaData()
    plain_audit = _plain_table(AuditEntryRow, "bench_plain_audit", meta)
    plain_steps = _plain_table(StepResultRow, "bench_plain_steps", meta)
    meta.create_all(store.engine)
    store.start_run(run_id="bench", run_key="bench", runbook="bench", parameters={})
    payload = {"step": "kickoff", "state": "completed", "attempt": 1, "duration_s": 0.25}
    now = datetime.now(UTC)

    def audit(i: int) -> None:
        store.audit.append("step.completed", {**payload, "i": i}, run_id="bench")

    plain_audit_insert, plain_steps_insert = insert(plain_audit), insert(plain_steps)

    def audit_plain(i: int) -> None:
        row = {"seq": i + 1, "ts": now.isoformat(), "event": "step.completed", "run_id": "bench"}
        data = json.dumps({**payload, "i": i})
        with store.connection() as conn:
            conn.execute(plain_audit_insert, {**row, "data": data, "prev_hash": "0" * 64, "hash": "0" * 64})

    step_fields: dict[str, Any] = {
        "run_id": "bench",
        "run_key": "bench",
        "step_id": "s",
        "state": "completed",
        "input_hash": "h",
    }

    def step(i: int) -> None:
        store.record_step(**step_fields, step_key=f"s[{i}]", outputs=payload, started_at=now)

    def step_plain(i: int) -> None:
        row = {**step_fields, "step_key": f"s[{i}]", "outputs": payload, "error": None}
        with store.connection() as conn:
            conn.execute(plain_steps_insert, {**row, "started_at": now, "finished_at": now})

    # warm up both paths (connection pool, statement caches), then measure
    for fn in (audit, audit_plain, step, step_plain):
        fn(-1 if fn in (step, step_plain) else 0)
    with store.connection() as conn:
        conn.execute(plain_audit.delete())
    # alternate baseline and measured blocks so load drift on a shared machine hits both alike
    t_plain_audit = t_audit = t_plain_steps = t_steps = 0.0
    block = N // ROUNDS
    for r in range(ROUNDS):
        offset = r * block
        t_plain_audit += _timed(lambda i, o=offset: audit_plain(o + i), block)  # type: ignore[misc]
        t_audit += _timed(lambda i, o=offset: audit(o + i + 1), block)  # type: ignore[misc]
        t_plain_steps += _timed(lambda i, o=offset: step_plain(o + i), block)  # type: ignore[misc]
        t_steps += _timed(lambda i, o=offset: step(o + i), block)  # type: ignore[misc]

    start = time.perf_counter()
    result = store.audit.verify()
    t_verify = time.perf_counter() - start
    start = time.perf_counter()
    with store.session(readonly=True) as s:
        rows = len(s.execute(select(plain_audit)).all())
    t_read = time.perf_counter() - start
    assert result.ok and result.count == N + 1 and rows == N

    return [
        f"store audit append (SQLite, {N} entries, 1 txn each): {N / t_audit:,.0f} entries/s; "
        f"ratio {t_audit / t_plain_audit:.2f} vs baseline plain INSERT into an identical table "
        f"({N / t_plain_audit:,.0f} rows/s)",
        f"store record_step (SQLite, {N} records, 1 txn each): {N / t_steps:,.0f} records/s; "
        f"ratio {t_steps / t_plain_steps:.2f} vs baseline plain INSERT into an identical table "
        f"({N / t_plain_steps:,.0f} rows/s)",
        f"store audit verify (SQLite, {N + 1} entries): {(N + 1) / t_verify:,.0f} entries/s; "
        f"ratio {t_verify / t_read:.2f} vs baseline plain SELECT of {N} rows",
    ]


if __name__ == "__main__":
    print("\n".join(main()))
