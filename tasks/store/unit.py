"""One step's writes as one transaction: the kind's store effects, its audit entries and its result.

A `StepUnit` is opened by the engine around a step kind's `run`. Audit entries the kind makes are
held until the step's result is recorded, then written in the same transaction as the result. A
kind registered `atomic` also *joins* the unit: every write it makes through the store on the
step's thread (approvals, gate verdicts, rollout state, ...) goes into one open transaction that
commits together with the result, so a crash at any instant leaves either all of them or none,
and a resumed run redoes the step exactly once. Effects outside the store are not covered here:
they commit an intent row first and reconcile on resume (see README "Exactly-once runs").
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.sql.expression import Executable

    from golive.tasks.store.store import Store


class StepUnit:
    def __init__(self, store: Store, run_id: str, *, join: bool) -> None:
        self.store = store
        self.run_id = run_id
        self.join = join
        self.owner = threading.get_ident()
        self.audits: list[tuple[str, dict[str, Any]]] = []
        self.conn: Connection | None = None
        self.closing = False  # the final write is under way: audit appends take the normal path
        self._closed = False
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._txn: Any = None

    # -- what the kind calls ----------------------------------------------------------------------
    def audit(self, event: str, data: Mapping[str, Any]) -> None:
        """Hold the entry for the step's commit (after it, e.g. from a late callback: append now)."""
        with self._lock:
            if not self._closed:
                self.audits.append((event, dict(data)))
                return
        self.store.audit.append(event, data, run_id=self.run_id)

    # -- what the store calls ---------------------------------------------------------------------
    def joined_here(self) -> bool:
        return self.join and not self.closing and threading.get_ident() == self.owner

    def connection(self) -> Connection:
        """The unit's open transaction, begun on its first write (so a pure step never takes a lock)."""
        if self.conn is None:
            stack = ExitStack()
            try:
                stack.enter_context(self.store._transaction_guard(False))  # SQLite: the writer lock
                conn = stack.enter_context(self.store.engine.connect())
                self._txn = conn.begin()
            except BaseException:
                stack.close()
                raise
            self._stack, self.conn = stack, conn
        return self.conn

    # -- what the engine calls --------------------------------------------------------------------
    def commit(self, entries: Sequence[tuple[str, Mapping[str, Any]]] = (),
               also: Sequence[tuple[Executable, dict[str, Any]]] = ()) -> list[Any]:
        """Write the held audit entries, `entries` and `also` and commit them with the kind's writes."""
        with self._lock:
            self._closed = True
            pending = [*self.audits, *entries]
            self.audits = []
        if self.conn is None:
            self.closing = True  # nothing joined: the audit log's group commit batches it with others
            return self.store.audit.append_group(pending, run_id=self.run_id, also=also) if (pending or also) else []
        try:
            results = self.store.audit.append_group(pending, run_id=self.run_id, also=also)  # into self.conn
            self.close(commit=True)
        except BaseException:
            self.close(commit=False)
            raise
        return results

    def close(self, *, commit: bool) -> None:
        """End the joined transaction (commit or roll back) and release the writer lock."""
        if self.conn is None or self._stack is None:
            return
        try:
            if commit:
                self._txn.commit()
            else:
                self._txn.rollback()
        finally:
            stack, self._stack, self.conn = self._stack, None, None
            stack.close()
