"""`golive runs reconcile`: bring the store's runs in line with Prefect's, and recover runs whose
worker or process died.

A shared installation loses processes: a worker host dies with the runs it had claimed, a flow-run
process is killed mid-step. Prefect and the store then disagree (Prefect says Crashed, the store
still says `running`), runs claimed by a dead worker sit in Pending for good, and leases of dead
runs keep their run key busy until their TTL. One pass:

1. Store runs that are `running` or `suspended`, against their Prefect flow run (the run id is
   the flow run id): Crashed, Cancelled, Failed, Completed and Suspended are copied to the store
   (with an audit entry). A flow run still Running whose golive lease is dead (no heartbeat for the
   lease TTL, or its process gone from this host) is marked Crashed in Prefect and in the store.
   Then Prefect's Crashed flow runs that ended within `lookback_s`: a store run still open or
   `failed` becomes `crashed` (Prefect crashed it: its zombie automation, or a process torn down
   after golive had written `failed`), and each is a candidate for step 4. One whose process
   still renews its golive lease is left alone until the lease is dead.
2. Prefect flow runs in Pending or Running whose worker stopped heart-beating (its last heartbeat
   older than `worker_timeout_s`) and whose state is older than `stale_s`: a Pending one never
   started its process, so it goes back to Scheduled and another worker takes it; a Running one
   whose store run has no live golive lease is marked Crashed; a Running one not in the store yet
   (before its first step) is left to its own heartbeats (Prefect's zombie automation).
3. Dead leases are released, so the run key is free at once.
4. With `rerun`, every crashed run golive knows that came from a deployment is started again from
   that deployment with its parameters and its run key, so completed steps come back from the store
   (cached) and nothing is done twice; a runbook whose run keys are leased exactly once allows it.
   Exactly once across passes: a run with a `run.rerun` audit entry, or whose run key has another
   run completed or open, is not started again, and Prefect's idempotency key `rerun-<flow run id>`
   returns the first re-run if a pass died between starting it and writing its audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from golive.tasks.store import leases

log = logging.getLogger(__name__)

OPEN_STATES = ("running", "suspended")
# Store states a Prefect Crashed flow run overrides: open ones, and `failed` (written by a process
# torn down mid-run before golive recorded such runs as `crashed`; Prefect's view is the cause).
CRASH_ALIGNS = (*OPEN_STATES, "failed")
RERUN_OF = "golive-rerun-of:"  # tag of a re-run, with the crashed flow run's id
# Prefect state type → store run state, for a run the store still thinks is open.
FINAL = {"CRASHED": "crashed", "CANCELLED": "cancelled", "FAILED": "failed", "COMPLETED": "completed"}


@dataclass
class Report:
    """What one pass changed (flow run ids), for the CLI and the scheduled deployment's result."""

    store_updated: dict[str, str] = field(default_factory=dict)  # run id → new store state
    crashed: list[str] = field(default_factory=list)  # flow runs marked Crashed here
    rescheduled: list[str] = field(default_factory=list)  # Pending runs of dead workers, back to Scheduled
    leases_released: list[str] = field(default_factory=list)  # run keys
    rerun: dict[str, str] = field(default_factory=dict)  # crashed flow run id → new flow run id
    unknown: list[str] = field(default_factory=list)  # store runs Prefect does not know (another API)
    crashed_but_alive: list[str] = field(default_factory=list)  # Crashed in Prefect, lease still renewed
    left_to_heartbeats: list[str] = field(default_factory=list)  # Running, dead worker, no store run yet
    crashed_unrecorded: list[str] = field(default_factory=list)  # Crashed before golive recorded the run

    def to_json(self) -> dict[str, Any]:
        return {"store_updated": self.store_updated, "crashed": self.crashed, "rescheduled": self.rescheduled,
                "leases_released": self.leases_released, "rerun": self.rerun, "unknown": self.unknown,
                "crashed_but_alive": self.crashed_but_alive, "left_to_heartbeats": self.left_to_heartbeats,
                "crashed_unrecorded": self.crashed_unrecorded}

    def lines(self) -> list[str]:
        out = [f"store: run {rid} → {state}" for rid, state in self.store_updated.items()]
        out += [f"prefect: flow run {rid} marked Crashed (its process is gone)" for rid in self.crashed]
        out += [f"prefect: flow run {rid} back to Scheduled (its worker died before starting it)"
                for rid in self.rescheduled]
        out += [f"lease of run key {key} released (its holder is dead)" for key in self.leases_released]
        out += [f"re-run: {old} → new flow run {new} (same run key)" for old, new in self.rerun.items()]
        out += [f"unknown to this Prefect API: run {rid} (left as it is)" for rid in self.unknown]
        out += [f"prefect: flow run {rid} is Crashed but its process still holds its lease (left for a later pass)"
                for rid in self.crashed_but_alive]
        out += [f"prefect: flow run {rid} of a dead worker is Running before its first step: left to its heartbeats"
                for rid in self.left_to_heartbeats]
        out += [f"prefect: flow run {rid} crashed before its first step (not in the store; not re-run)"
                for rid in self.crashed_unrecorded]
        return out or ["nothing to reconcile: the store agrees with Prefect"]


def _now() -> datetime:
    return datetime.now(UTC)


def _age(ts: datetime | None, now: datetime) -> float:
    if ts is None:
        return float("inf")
    return (now - (ts if ts.tzinfo else ts.replace(tzinfo=UTC))).total_seconds()


def _lease_dead(store: Any, run_key: str, run_id: str) -> tuple[bool, Any]:
    """(dead, lease row): the run has no live lease of its own (none, another run's, or expired)."""
    row = leases.current(store, run_key)
    if row is None:
        return True, None
    if row.run_id not in (None, run_id):
        return True, None  # the key is held by another run now; this one holds nothing
    return not leases.is_alive(row), row


def _release(store: Any, row: Any, report: Report) -> None:
    if row is None:
        return
    leases.release(store, leases.Lease(run_key=row.run_key, token=row.token, host=row.host, pid=row.pid))
    report.leases_released.append(row.run_key)


class Reconciler:
    def __init__(self, store: Any, client: Any, *, stale_s: float = 120.0, worker_timeout_s: float = 90.0,
                 rerun: bool = False, dry_run: bool = False, lookback_s: float = 86400.0) -> None:
        self.store, self.client = store, client
        self.stale_s, self.worker_timeout_s, self.lookback_s = stale_s, worker_timeout_s, lookback_s
        self.rerun, self.dry_run = rerun, dry_run
        self.report = Report()
        self._to_rerun: dict[str, Any] = {}  # flow run id → its FlowRun (crashed here, from a deployment)

    def run(self) -> Report:
        self._store_runs()
        self._crashed_in_prefect()
        self._orphaned_prefect_runs()
        if self.rerun and not self.dry_run:
            self._rerun()
        return self.report

    # -- 1. the store's open runs ------------------------------------------------------------
    def _store_runs(self) -> None:
        from prefect.exceptions import ObjectNotFound

        for state in OPEN_STATES:
            for record in self.store.list_runs(state):
                try:
                    flow_run = self.client.read_flow_run(record.run_id)
                except (ObjectNotFound, ValueError):
                    self.report.unknown.append(record.run_id)
                    continue
                self._one(record, flow_run)

    def _one(self, record: Any, flow_run: Any) -> None:
        prefect_state = flow_run.state.type.value if flow_run.state else "NONE"
        if prefect_state in FINAL:
            dead, row = _lease_dead(self.store, record.run_key, record.run_id)
            if prefect_state == "CRASHED" and not dead:
                self._still_alive(record)
                return
            self._set_store(record, FINAL[prefect_state], f"Prefect says {flow_run.state.name}", finished=True)
            if dead and not self.dry_run:
                _release(self.store, row, self.report)
            if prefect_state == "CRASHED" and flow_run.deployment_id is not None:
                self._to_rerun[str(flow_run.id)] = flow_run
            return
        if prefect_state == "PAUSED" and flow_run.state.name == "Suspended" and record.state == "running":
            self._set_store(record, "suspended", "Prefect says Suspended", finished=False)
            return
        if record.state == "running" and prefect_state in ("RUNNING", "PENDING"):
            dead, row = _lease_dead(self.store, record.run_key, record.run_id)
            if dead and _age(flow_run.state.timestamp, _now()) > self.stale_s / 4:
                self._crash(flow_run, "its process died (no live golive lease)")
                self._set_store(record, "crashed", "its process died (lease dead)", finished=True)
                if not self.dry_run:
                    _release(self.store, row, self.report)

    def _crashed_in_prefect(self) -> None:
        """Prefect's Crashed flow runs of the last `lookback_s`, against the store."""
        from datetime import timedelta

        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterEndTime,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType

        since = _now() - timedelta(seconds=self.lookback_s)
        # pydantic turns the stdlib datetime into Prefect's DateTime (typed as that alone)
        wanted = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
                               end_time=FlowRunFilterEndTime(after_=since))  # type: ignore[arg-type]
        offset = 0
        while True:
            page = self.client.read_flow_runs(flow_run_filter=wanted, limit=200, offset=offset)
            for flow_run in page:
                record = self.store.get_run(str(flow_run.id))
                if record is None:
                    # Crashed before golive recorded it (before its first step): nothing to align. Not
                    # re-run here: golive cannot tell its own deployments' runs from others' on this
                    # server, nor a broken deployment that would crash again on every re-run.
                    self.report.crashed_unrecorded.append(str(flow_run.id))
                    continue
                dead, row = _lease_dead(self.store, record.run_key, record.run_id)
                if not dead:
                    self._still_alive(record)
                    continue
                if record.state in CRASH_ALIGNS:
                    self._set_store(record, "crashed", f"Prefect says {flow_run.state.name}", finished=True)
                    if not self.dry_run:
                        _release(self.store, row, self.report)
                if flow_run.deployment_id is not None and record.state in (*CRASH_ALIGNS, "crashed"):
                    self._to_rerun.setdefault(str(flow_run.id), flow_run)
            if len(page) < 200:
                return
            offset += 200

    def _still_alive(self, record: Any) -> None:
        """Prefect says Crashed (its zombie automation, say, after heartbeats came late), yet the run's
        process still renews its golive lease: neither aligned nor re-run while it lives (a re-run
        would find its run key busy); a later pass decides once the lease is dead."""
        if record.run_id not in self.report.crashed_but_alive:
            self.report.crashed_but_alive.append(record.run_id)

    def _set_store(self, record: Any, state: str, reason: str, *, finished: bool) -> None:
        if self.dry_run:
            self.report.store_updated[record.run_id] = state
            return
        event = "run.crashed" if state == "crashed" else "run.reconciled"
        only_from = CRASH_ALIGNS if state == "crashed" else OPEN_STATES
        done = self.store.set_run_state(record.run_id, state, only_from=only_from, finished=finished,
                                        audit=(event, {"run_key": record.run_key, "state": state, "reason": reason}))
        if done:
            self.report.store_updated[record.run_id] = state

    def _crash(self, flow_run: Any, reason: str) -> None:
        from prefect.states import Crashed

        if not self.dry_run:
            self.client.set_flow_run_state(flow_run.id, Crashed(message=f"golive runs reconcile: {reason}"),
                                           force=True)
        self.report.crashed.append(str(flow_run.id))
        if flow_run.deployment_id is not None:
            self._to_rerun[str(flow_run.id)] = flow_run

    # -- 2. Prefect runs of dead workers -------------------------------------------------------
    def _dead_workers(self, pools: set[str]) -> set[str]:
        dead: set[str] = set()
        now = _now()
        for pool in pools:
            for worker in self.client.read_workers_for_work_pool(pool):
                if _age(worker.last_heartbeat_time, now) > self.worker_timeout_s:
                    dead.add(worker.name)
        return dead

    def _orphaned_prefect_runs(self) -> None:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
        from prefect.client.schemas.objects import StateType
        from prefect.states import Scheduled

        stuck = self.client.read_flow_runs(flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING]))), limit=200)
        pools = {r.work_pool_name for r in stuck if r.work_pool_name}
        dead_workers = self._dead_workers(pools) if pools else set()
        now = _now()
        for flow_run in stuck:
            worker = (flow_run.labels or {}).get("prefect.worker.name")
            if worker not in dead_workers or _age(flow_run.state.timestamp, now) < self.stale_s:
                continue
            if str(flow_run.id) in self.report.crashed:
                continue
            record = self.store.get_run(str(flow_run.id))
            if flow_run.state.type == StateType.PENDING and record is None:
                if not self.dry_run:
                    self.client.set_flow_run_state(flow_run.id, Scheduled(
                        message=f"golive runs reconcile: worker {worker} died before starting it"), force=True)
                self.report.rescheduled.append(str(flow_run.id))
                continue
            if record is None:
                # Running without a store run: its process may be alive before its first step (waiting
                # for a location slot, which comes before the store run and the lease), so its worker's
                # death alone does not say its process died. Only its own heartbeats tell: Prefect's
                # zombie automation (flows/engine/zombies.py) crashes it if they stop.
                self.report.left_to_heartbeats.append(str(flow_run.id))
                continue
            dead, row = _lease_dead(self.store, record.run_key, str(flow_run.id))
            if not dead:
                continue  # its process lives on without the worker: it finishes by itself
            self._crash(flow_run, f"worker {worker} died and its process is gone")
            self._set_store(record, "crashed", f"worker {worker} died", finished=True)
            if not self.dry_run:
                _release(self.store, row, self.report)

    # -- 4. start crashed runs again ---------------------------------------------------------
    def _rerun(self) -> None:
        for old_id, flow_run in self._to_rerun.items():
            record = self.store.get_run(old_id)
            if record is not None and not self._may_rerun(record):
                continue
            if self._rerun_exists(old_id):
                continue
            params = dict(flow_run.parameters or {})
            if record is not None and not params.get("run_key"):
                params["run_key"] = record.run_key  # the same key: completed steps are reused, not redone
            # The idempotency key makes Prefect return the first re-run, should an earlier pass have
            # started it and died before its audit entry.
            new = self.client.create_flow_run_from_deployment(flow_run.deployment_id, parameters=params,
                                                              tags=["golive-rerun", f"{RERUN_OF}{old_id}"],
                                                              idempotency_key=f"rerun-{old_id}")
            self.report.rerun[old_id] = str(new.id)
            self.store.audit.append("run.rerun", {"run_key": params.get("run_key"), "new_run": str(new.id)},
                                    run_id=old_id if record is not None else None)


    def _rerun_exists(self, old_id: str) -> bool:
        """Prefect's own record of a re-run (its tag), for runs the store never knew (no audit entry)."""
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

        return bool(self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"{RERUN_OF}{old_id}"])), limit=1))

    def _may_rerun(self, record: Any) -> bool:
        """Not re-run already (its `run.rerun` audit entry), and its run key not finished or taken up
        by another run since (a later run completed it, or one is running or suspended now)."""
        if any(e.event == "run.rerun" for e in self.store.audit.entries(run_id=record.run_id)):
            return False
        return not any(other.run_id != record.run_id and other.state in ("completed", *OPEN_STATES)
                       for other in self.store.list_runs(run_key=record.run_key))


def reconcile(store: Any, *, stale_s: float = 120.0, worker_timeout_s: float = 90.0, rerun: bool = False,
              dry_run: bool = False, lookback_s: float = 86400.0) -> Report:
    """One pass against the configured Prefect API (PREFECT_API_URL)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return Reconciler(store, client, stale_s=stale_s, worker_timeout_s=worker_timeout_s, rerun=rerun,
                          dry_run=dry_run, lookback_s=lookback_s).run()


def reconcile_flow_body(rerun: bool = True, stale_s: float = 120.0, worker_timeout_s: float = 90.0) -> dict[str, Any]:
    """The `golive-reconcile` deployment's body (prefect.yaml, every 5 minutes once switched on)."""
    from golive.tasks.store import Store

    store = Store.open()
    try:
        report = reconcile(store, stale_s=stale_s, worker_timeout_s=worker_timeout_s, rerun=rerun)
    finally:
        store.dispose()
    for line in report.lines():
        log.info("%s", line)
    return report.to_json()
