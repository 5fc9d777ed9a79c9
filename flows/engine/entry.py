"""The entry flow: runs any runbook by name or path, with its parameters, through Prefect.

`golive run` calls it in-process; prefect.yaml deploys it (and the per-runbook flows in
`flows/deployed.py`) for the Prefect UI.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow
from prefect.runtime import deployment, flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner

from golive.flows.engine import loaded
from golive.flows.engine.executor import RunContext, now, run_steps
from golive.flows.engine.inputs import Decisions
from golive.flows.engine.org import load_org, org_digest
from golive.flows.engine.scope import default_run_key, slot_run_key
from golive.flows.engine.validate import check_parameters
from golive.tasks.foundation import paths
from golive.tasks.foundation.paths import resolve_runbook
from golive.tasks.store import Store


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


def run_runbook(runbook: str, parameters: dict[str, Any] | None = None, run_key: str | None = None,
                decisions: dict[str, Any] | None = None, org: str | None = None) -> Any:
    """The body of every golive flow: validate, then run the steps; a failed run returns a Failed state."""
    book = loaded.runbook(resolve_runbook(runbook))
    params = check_parameters(book, parameters or {})
    key = run_key or run_key_for(book.name, params)
    store = Store.open()
    run_id = str(flow_run.id)
    started = store.first_started(key) or now()  # a resumed run keeps its due dates
    rc = RunContext(run_id=run_id, run_key=key, runbook=book, params=params, store=store, org=load_org(org),
                    decisions=Decisions.from_json(decisions), out_dir=paths.out_dir(), started=started,
                    in_deployment=deployment.id is not None, org_digest=org_digest(org))
    try:
        store.audit.check_key()  # a worker with another installation's audit key writes nothing
    except BaseException:
        store.dispose()
        raise
    store.start_run(run_id=run_id, run_key=key, runbook=book.name, parameters=params)
    store.audit.append("run.start", {"runbook": book.name, "run_key": key}, run_id=run_id)
    state = "failed"
    try:
        state, results = run_steps(rc)
    finally:
        store.finish_run(run_id, state)
        store.audit.append("run.end", {"runbook": book.name, "state": state}, run_id=run_id)
        store.dispose()
    summary = {"run_id": run_id, "run_key": key, "state": state, "steps": {r.key: r.state for r in results}}
    if state != "completed":
        # A Failed state (not an exception): the UI shows the run failed, without a traceback.
        failed = ", ".join(r.key for r in results if r.state == "failed")
        # The message is the whole result: the summary is in the store (`golive run` reads it there).
        # A dict as a Failed state's data cannot be turned into an exception, so Prefect's engine
        # logged a TypeError traceback after every failed deployment run.
        return Failed(message=f"runbook {book.name} {state.replace('_', ' ')}; failed steps: {failed}")
    return summary


@flow(name="golive-runbook", flow_run_name="{runbook}", validate_parameters=False,
      task_runner=thread_pool(), log_prints=False)
def golive_runbook(runbook: str, parameters: dict[str, Any] | None = None, run_key: str | None = None,
                   decisions: dict[str, Any] | None = None, org: str | None = None) -> Any:
    """Run any runbook (a name under runbooks/ or a path) with its parameters."""
    return run_runbook(runbook, parameters, run_key, decisions, org)
