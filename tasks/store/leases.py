"""One live run per run key: a lease row (host, pid, run id, heartbeat) taken atomically.

`acquire` runs in one write transaction: SQLite's `BEGIN IMMEDIATE` (the store's default for
writers) or PostgreSQL's `pg_advisory_xact_lock` serialises takers across processes and hosts,
so of two runs started at the same instant exactly one gets the lease; the other gets
`RunKeyBusy` (exit 2 on the CLI). A lease is dead when its heartbeat is older than the TTL, or at
once when its process is gone from this host; a dead lease is taken over and the runs it left
`running` become `crashed`, each with a `run.crashed` audit entry in the same transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text, update

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.store.models import RunLeaseRow, RunRow

log = logging.getLogger(__name__)

ENV_TTL = "GOLIVE_LEASE_TTL_S"
LEASE_LOCK = 0x676F6C6976_05  # pg_advisory_xact_lock key for leases ("golive" 05)
_LEASES = cast(Table, RunLeaseRow.__table__)
_RUNS = cast(Table, RunRow.__table__)


class RunKeyBusy(UserInputError):
    """Another live run holds this run key."""


def ttl_s() -> float:
    return float(os.environ.get(ENV_TTL, "30"))


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_alive(row: Any, now: datetime | None = None) -> bool:
    now = now or _now()
    if now - _utc(row.heartbeat_at) > timedelta(seconds=ttl_s()):
        return False
    if row.host == socket.gethostname():
        return _pid_alive(int(row.pid))
    return True


@dataclass
class Lease:
    run_key: str
    token: str
    host: str
    pid: int
    run_id: str | None = None


def describe(row: Any) -> str:
    since = _utc(row.acquired_at).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"run key {row.run_key} is running (pid {row.pid} on host {row.host} since {since})"


def acquire(store: Any, run_key: str, *, run_id: str | None = None) -> Lease:
    """Take the run key's lease or raise RunKeyBusy naming who holds it."""
    lease = Lease(run_key=run_key, token=uuid.uuid4().hex, host=socket.gethostname(), pid=os.getpid(),
                  run_id=run_id)
    now = _now()
    values = {"run_key": run_key, "token": lease.token, "run_id": run_id, "host": lease.host, "pid": lease.pid,
              "acquired_at": now, "heartbeat_at": now}
    with store.connection() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEASE_LOCK})
        row = conn.execute(select(_LEASES).where(_LEASES.c.run_key == run_key)).first()
        if row is not None and is_alive(row, now):
            raise RunKeyBusy(describe(row))
        if row is None:
            conn.execute(insert(_LEASES), values)
        else:
            conn.execute(update(_LEASES).where(_LEASES.c.run_key == run_key).values(**values))
    _crash_dead_runs(store, run_key, except_run=run_id)
    return lease


def _crash_dead_runs(store: Any, run_key: str, except_run: str | None) -> None:
    """Runs of this key still `running` have no live holder now (we hold the lease): mark them crashed."""
    with store.session(readonly=True) as s:
        dead = [r for r in s.scalars(select(RunRow.run_id).where(RunRow.run_key == run_key,
                                                                  RunRow.state == "running"))
                if r != except_run]
    for run_id in dead:
        stmt = update(_RUNS).where(_RUNS.c.run_id == run_id, _RUNS.c.state == "running")
        store.audit.append_group([("run.crashed", {"run_key": run_key, "reason": "its process died (lease taken over)"})],
                                 run_id=run_id, also=[(stmt.values(state="crashed", finished_at=_now()), {})])
        log.warning("run %s of key %s had crashed; marked crashed", run_id, run_key)


def attach(store: Any, lease: Lease, run_id: str) -> None:
    lease.run_id = run_id
    with store.connection() as conn:
        conn.execute(update(_LEASES).where(_LEASES.c.run_key == lease.run_key, _LEASES.c.token == lease.token)
                     .values(run_id=run_id))


def heartbeat(store: Any, lease: Lease) -> bool:
    """Renew the lease; False when it is no longer ours (taken over after we stalled past the TTL)."""
    with store.connection() as conn:
        result = conn.execute(update(_LEASES).where(_LEASES.c.run_key == lease.run_key,
                                                    _LEASES.c.token == lease.token).values(heartbeat_at=_now()))
        return bool(result.rowcount)


def release(store: Any, lease: Lease) -> None:
    with store.connection() as conn:
        conn.execute(delete(_LEASES).where(_LEASES.c.run_key == lease.run_key, _LEASES.c.token == lease.token))


def current(store: Any, run_key: str) -> Any:
    with store.session(readonly=True) as s:
        return s.execute(select(_LEASES).where(_LEASES.c.run_key == run_key)).first()


# Leases this process holds, by run key: `golive run` takes the lease before Prefect starts and
# the entry flow (same process) adopts it instead of taking a second one.
HELD: dict[str, Lease] = {}


class Holder:
    """Hold a lease with a heartbeat thread until `close()`."""

    def __init__(self, store: Any, lease: Lease) -> None:
        self.store, self.lease = store, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"golive-lease-{lease.run_key}", daemon=True)
        self._thread.start()
        HELD[lease.run_key] = lease

    @classmethod
    def take(cls, store: Any, run_key: str, run_id: str | None = None) -> Holder:
        return cls(store, acquire(store, run_key, run_id=run_id))

    def _beat(self) -> None:
        interval = max(0.2, ttl_s() / 3)
        while not self._stop.wait(interval):
            try:
                if not heartbeat(self.store, self.lease):
                    log.error("lost the lease of run key %s", self.lease.run_key)
                    return
            except Exception as exc:  # a store hiccup: try again at the next beat
                log.warning("lease heartbeat failed: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        HELD.pop(self.lease.run_key, None)
        release(self.store, self.lease)
