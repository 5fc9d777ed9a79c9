"""The entry flow: runs any runbook by name or path, with its parameters, through Prefect.

`golive run` calls it in-process; prefect.yaml deploys it (and the per-runbook flows in
`flows/deployed.py`) for the Prefect UI.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import Pause
from prefect.runtime import deployment, flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner

from golive.flows.engine import loaded
from golive.flows.engine.dues import for_run as due_calendar
from golive.flows.engine.executor import RunContext, now, run_steps
from golive.flows.engine.inputs import Decisions
from golive.flows.engine.org import load_org, org_digest
from golive.flows.engine.preflight import check_decisions
from golive.flows.engine.scope import default_run_key, slot_run_key
from golive.flows.engine.timeline import explicit_day
from golive.flows.engine.timeline import for_run as timeline_for
from golive.flows.engine.validate import check_locations, check_parameters
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import resolve_runbook
from golive.tasks.store import Store, leases


def max_workers() -> int:
    return int(os.environ.get("GOLIVE_MAX_WORKERS", "8"))


def thread_pool() -> Any:
    """Steps run in threads: most wait on I/O (HTTP, DICOM, the database), and share the process."""
    return ThreadPoolTaskRunner(max_workers=max_workers())


def run_key_for(runbook: str, params: dict[str, Any]) -> str:
    """The run key when the user gives none: a deployment run (scheduled, UI, API) includes its
    schedule slot or submit time; an in-process run (`golive run`) is keyed by its parameters."""
    if deployment.id is not None:
        return slot_run_key(runbook, params, flow_run.scheduled_start_time)
    return default_run_key(runbook, params)


class RunbookFailed(Exception):
    """The data of a failed run's state: an exception, so Prefect can raise it for `state.result()`."""


def run_runbook(runbook: str, parameters: dict[str, Any] | None = None, run_key: str | None = None,
                decisions: dict[str, Any] | None = None, org: str | None = None) -> Any:
    """The body of every golive flow: validate, then run the steps; a failed run returns a Failed state.

    Bad parameters (a schema mismatch, an unknown location id) fail the run before its first
    step, with the reason as the state message; no traceback for a user's mistake.
    """
    try:
        book = loaded.runbook(resolve_runbook(runbook))
        params = check_parameters(book, parameters or {})
        organization = load_org(org)
        check_locations(book, params, organization)
        given = Decisions.from_json(decisions)
        check_decisions(book, given)  # a deployment's `decisions` parameter gets the CLI's pre-flight too
        explicit_day(book, params)  # an `as_of` that is not a date
    except UserInputError as exc:
        get_run_logger().error("refused before the first step: %s", exc)
        return Failed(message=f"refused before the first step: {exc}", data=RunbookFailed(str(exc)))
    key = run_key or run_key_for(book.name, params)
    store = Store.open()
    run_id = str(flow_run.id)
    # One live run per run key: `golive run` took the lease already (this process); a deployment
    # run (UI, schedule) takes it here.
    holder = None
    try:
        held = leases.HELD.get(key)
        if held is not None:
            leases.attach(store, held, run_id)
        else:
            holder = leases.Holder.take(store, key, run_id)
    except leases.RunKeyBusy as exc:
        store.dispose()
        return Failed(message=str(exc), data={"run_id": run_id, "run_key": key, "state": "refused", "steps": {}})
    started = store.first_started(key) or now()  # a resumed run keeps its due dates
    timeline = timeline_for(book, params, store, organization, started)  # the run's day on the plan
    rc = RunContext(run_id=run_id, run_key=key, runbook=book, params=params, store=store, org=organization,
                    decisions=given, out_dir=paths.out_dir(), started=started, timeline=timeline.day,
                    dues=due_calendar(book, params, store, organization, started, timeline.day),
                    in_deployment=deployment.id is not None, org_digest=org_digest(org))
    try:
        store.audit.check_key()  # a worker with another installation's audit key writes nothing
    except BaseException:
        store.dispose()
        raise
    store.start_run(run_id=run_id, run_key=key, runbook=book.name, parameters=params,
                    audit=("run.start", {"runbook": book.name, "run_key": key, **planned_dues(book, rc.dues)}))
    state = "failed"
    try:
        state, results = run_steps(rc)
    except Pause:
        # Suspended for a person (flows/engine/inputs.py): the process exits, the lease is released,
        # and Resume starts this flow run again under the same run key.
        state = "suspended"
        raise
    except Exception:
        raise  # a failure of the run itself: Prefect says Failed, the store `failed`
    except BaseException:
        # SystemExit, KeyboardInterrupt, a termination signal: the process was torn down mid-run.
        # Prefect's engine reports these as Crashed (flow_engine.py), so the store says `crashed`
        # too, and `golive runs reconcile --rerun` starts the run again.
        state = "crashed"
        raise
    finally:
        if state == "suspended":
            store.set_run_state(run_id, "suspended", audit=("run.suspended", {"runbook": book.name, "run_key": key}))
        else:
            _refresh_board(rc)
            store.finish_run(run_id, state)
            store.audit.append("run.end", {"runbook": book.name, "state": state}, run_id=run_id)
        if holder is not None:
            holder.close()
        store.dispose()
    summary = {"run_id": run_id, "run_key": key, "state": state, "steps": {r.key: r.state for r in results}}
    if state != "completed":
        # A Failed state whose data is an exception (a dict there makes Prefect raise "Unexpected
        # result for failed state"): the UI shows the failed steps and why, without a traceback.
        failed = "; ".join(f"{r.key}: {r.error}" if r.error else r.key for r in results if r.state == "failed")
        message = f"runbook {book.name} {state.replace('_', ' ')}; failed steps: {failed}"
        return Failed(message=message[:2000], data=RunbookFailed(message))
    return summary


def planned_dues(book: Any, dues: Any) -> dict[str, Any]:
    """Every step's due day on this run's calendar, recorded when the run starts: the board's next
    item and the overdue reminders cover steps that have not started yet, not only started ones."""
    if dues is None:
        return {}
    planned = [{"step": s.id, "owner": s.owner or book.metadata.owner, "due": dues.day(s.due).isoformat()}
               for s in book.steps if s.due]
    return {"dues": planned} if planned else {}


def _refresh_board(rc: RunContext) -> None:
    """Every run refreshes the program board (out/program-board.md and a Prefect artifact) once the
    program tracks a location; a board that cannot be drawn is logged, never fails the run."""
    from golive.flows.engine.step_task import PrefectArtifacts
    from golive.tasks.program import board

    try:
        if board.in_use(rc.store):
            board.publish(board.build(rc.store, rc.org, rc.started.date()), rc.out_dir, PrefectArtifacts("golive"))
    except Exception as exc:  # noqa: BLE001  (the run's own outcome matters more than its board)
        logging.getLogger("golive.program").warning("program board not refreshed: %s", exc)


@flow(name="golive-runbook", flow_run_name="{runbook}", validate_parameters=False,
      task_runner=thread_pool(), log_prints=False)
def golive_runbook(runbook: str, parameters: dict[str, Any] | None = None, run_key: str | None = None,
                   decisions: dict[str, Any] | None = None, org: str | None = None) -> Any:
    """Run any runbook (a name under runbooks/ or a path) with its parameters."""
    return run_runbook(runbook, parameters, run_key, decisions, org)
