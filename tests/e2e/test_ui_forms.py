"""In a deployment run an approval pauses the flow for a typed form; the UI's "Resume" submits it.

The test plays the UI's part through the same API call (`resume_flow_run` with `run_input`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.e2e.conftest import steps_by_key

pytestmark = pytest.mark.e2e

BOOK = """apiVersion: golive/v1
kind: Runbook
metadata: {name: ui-form}
steps:
  - id: sign-off
    uses: approval
    with: {approvers: [CDO, VP of IT], question: Ready for go-live?}
  - id: list
    uses: checklist
    needs: [sign-off]
    with:
      items:
        - {id: kickoff, text: Kickoff held}
        - {id: sandbox, text: Sandbox access}
"""


def _paused(run_name: str, after_state: Any = None, deadline_s: float = 90) -> tuple[Any, Any]:
    """(flow run id, state id) once this test's own run (named after its runbook path; the server is
    shared by the session) is paused in a state other than `after_state`."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            for run in client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run_name]))):
                if run.state is not None and run.state.is_paused() and run.state.id != after_state:
                    return run.id, run.state.id
            time.sleep(0.2)
    raise AssertionError(f"flow run {run_name!r} did not pause for input within {deadline_s} s")


def test_deployment_run_pauses_for_typed_forms_and_resumes(tmp_path: Path, run_book: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.flow_runs import resume_flow_run

    import golive.flows.engine.entry as entry

    monkeypatch.setattr(entry, "deployment", SimpleNamespace(id="deployment-under-test"))
    book = tmp_path / "ui-form.yaml"
    book.write_text(BOOK)
    holder: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: holder.update(result=run_book(book)), daemon=True)
    worker.start()

    run_id, first = _paused(str(book))
    resume_flow_run(run_id, run_input={"decision": "approve", "name": "Dana Lee", "role": "CDO", "comment": "ok"})
    run_id, _ = _paused(str(book), after_state=first)  # the run continues to the checklist and pauses again
    resume_flow_run(run_id, run_input={"name": "Ira", "item_0": True, "item_1": True})
    worker.join(timeout=120)

    steps = steps_by_key(holder["result"])
    assert holder["result"]["state"] == "completed"
    assert steps["sign-off"]["outputs"] == {"decision": "approve", "approver": "Dana Lee", "role": "CDO",
                                            "comment": "ok"}
    assert {i["id"]: i["state"] for i in steps["list"]["outputs"]["items"]} == {"kickoff": "confirmed",
                                                                               "sandbox": "confirmed"}
    assert steps["list"]["outputs"]["confirmed_by"] == "Ira"
