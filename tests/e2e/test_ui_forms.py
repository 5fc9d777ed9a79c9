"""In a deployment run an approval pauses the flow for a typed form; the UI's "Resume" submits it.

The test plays the UI's part through the same API call (`resume_flow_run` with `run_input`).
"""

from __future__ import annotations

import logging
import os
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
        - {id: kickoff, text: Kickoff held, owner: CFO}
        - {id: sandbox, text: Sandbox access, owner: VP of Ops}
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
    resume_flow_run(run_id, run_input={"name": "Ira", "item_0": True, "item_1": False})
    run_id, _ = _paused(str(book), after_state=_)  # `sandbox` is still open: the checklist pauses again
    resume_flow_run(run_id, run_input={"name": "Ira", "item_1": True})
    worker.join(timeout=120)

    steps = steps_by_key(holder["result"])
    assert holder["result"]["state"] == "completed"
    assert steps["sign-off"]["outputs"] == {"decision": "approve", "approver": "Dana Lee", "role": "CDO",
                                            "comment": "ok"}
    assert {i["id"]: i["state"] for i in steps["list"]["outputs"]["items"]} == {"kickoff": "confirmed",
                                                                               "sandbox": "confirmed"}
    assert steps["list"]["outputs"]["confirmed_by"] == "Ira"
    _assert_one_message_per_pause(tmp_path, run_id)


def _messages(root: Path) -> list[Any]:
    from email import policy
    from email.parser import BytesParser

    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(root.rglob("*.eml"))]


def _assert_one_message_per_pause(tmp_path: Path, run_id: Any) -> None:
    """Three pauses (approval, checklist, checklist again for `sandbox`): three outbox messages, each
    naming its step and roles and linking to the run; sending a pause's message again sends nothing."""
    from golive.flows.engine.decider_message import tell_deciders
    from golive.tasks.context import InputRequest
    from golive.tasks.delivery import send
    from golive.tasks.planning.organization import load_organization
    from golive.tasks.store import Store

    outbox = tmp_path / "out" / "outbox"
    bodies = sorted((m.get_content() for m in _messages(outbox)), key=lambda b: ("checklist" in b, "Kickoff" not in b))
    assert len(bodies) == 3, bodies
    link = f"/runs/flow-run/{run_id}"
    sign_off, first_list, second_list = bodies
    assert "sign-off waits for an approval: Ready for go-live?" in sign_off
    assert "Waiting for: CDO, VP of IT" in sign_off and link in sign_off
    assert "list waits for a checklist" in first_list and "Kickoff held" in first_list
    assert "Waiting for: CFO, VP of Ops" in first_list and link in first_list
    assert "Kickoff held" not in second_list and "Sandbox access" in second_list
    assert "Waiting for: VP of Ops" in second_list and link in second_list
    heads = {m["Subject"]: m["To"] for m in _messages(outbox)}
    assert set(heads) == {"Decision needed: sign-off", "Decision needed: list"}

    store = Store.open()
    try:
        rows = [r for r in send.history(store) if "@pause:" in r["step_key"]]
        assert sorted(r["step_key"] for r in rows) == ["list@pause:list", "list@pause:list-1",
                                                       "sign-off@pause:sign-off"]
        assert {r["state"] for r in rows} == {"sent"}
        # A rerun that pauses on the same key (e.g. the worker restarted) finds the ledger row: nothing new.
        org = load_organization(Path(os.environ["GOLIVE_ORG"]))
        rc = SimpleNamespace(run_id=str(run_id), run_key=rows[0]["run_key"], runbook=SimpleNamespace(name="ui-form"),
                             org=org, store=store, out_dir=tmp_path / "out", started=None)
        request = InputRequest(kind="approval", step_key="sign-off", question="Ready for go-live?",
                               approvers=("CDO", "VP of IT"))
        tell_deciders(rc, request, "sign-off", "**sign-off** waits", "http://ui/runs/flow-run/x",
                      logging.getLogger("test"))
        assert len([r for r in send.history(store) if "@pause:" in r["step_key"]]) == 3
    finally:
        store.dispose()
    assert len(_messages(outbox)) == 3


def test_cli_run_takes_decisions_up_front_and_sends_no_pause_message(tmp_path: Path, run_book: Any) -> None:
    book = tmp_path / "ui-form.yaml"
    book.write_text(BOOK)
    result = run_book(book, decisions={"approvals": {"sign-off": {"decision": "approve", "name": "Dana Lee",
                                                                  "role": "CDO"}},
                                       "confirmations": {"list": "all"}})
    assert result["state"] == "completed", result
    assert _messages(tmp_path / "out") == []


def test_a_failed_pause_message_is_logged_and_does_not_raise(golive_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An SMTP relay that refuses the connection: the pause goes on, the ledger says `failed`, a warning names it."""
    import dataclasses
    import socket

    from golive.flows.engine.decider_message import tell_deciders
    from golive.tasks.context import InputRequest
    from golive.tasks.delivery import send
    from golive.tasks.foundation.paths import DEFAULT_ORG
    from golive.tasks.planning.organization import Delivery, EmailChannel, load_organization
    from golive.tasks.store import Store

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    acme = load_organization(DEFAULT_ORG)
    org = dataclasses.replace(acme, delivery=Delivery(email=EmailChannel(
        host="127.0.0.1", port=port, sender="rollout@acme-dental.example", security="plain-local")))
    assert any(p.email for p in org.people_with_role("CFO"))
    store = Store.open()
    try:
        rc = SimpleNamespace(run_id="r1", run_key="budget-run", runbook=SimpleNamespace(name="budget"), org=org,
                             store=store, out_dir=golive_env / "out", started=None)
        request = InputRequest(kind="approval", step_key="budget", question="Approve the budget?", approvers=("CFO",))
        with caplog.at_level(logging.WARNING, logger="test.pause"):
            tell_deciders(rc, request, "budget", "**budget** waits", None, logging.getLogger("test.pause"))
        rows = send.history(store, "budget-run")
    finally:
        store.dispose()
    assert [(r["channel"], r["state"]) for r in rows] == [("email", "failed")]
    assert "budget: the message to CFO was not delivered" in caplog.text and "ConnectionRefusedError" in caplog.text
