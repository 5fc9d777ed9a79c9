"""The PHI guard kind on a real store: closed without its prerequisites, open with them, and the
override path (an approval by a named role, with a reason, recorded as approval and audit entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from compliance_support import seed_phi_prerequisites

from golive.tasks.compliance.kinds import PhiBlocked, guard_request, run_phi_guard
from golive.tasks.compliance.status import OVERRIDE_EVENT, compliance_status
from golive.tasks.context import Approval, StepContext
from golive.tasks.foundation.errors import ApprovalRejected
from golive.tasks.planning.organization import Organization

pytestmark = pytest.mark.integration
PARAMS = {"location": "eastside-specialty", "approvers": ["Legal", "VP of IT"], "missing": ["baa: no evidence"]}


def _ctx(store: Any, org: Organization, decision: Approval | None = None) -> StepContext:
    if store.get_run("run-1") is None:
        store.start_run(run_id="run-1", run_key="key-1", runbook="integration-validation", parameters={})

    def audit(event: str, data: Any) -> None:
        store.audit.append(event, data, run_id="run-1")

    return StepContext(run_id="run-1", run_key="key-1", runbook="integration-validation", step_id="phi-guard",
                       step_key="phi-guard", org=org, store=store, human_input=decision, audit=audit)


def _events(store: Any) -> list[str]:
    return [e.event for e in store.audit.entries() if e.event.startswith("phi_guard")]


def test_closed_without_the_baa(sqlite_store: Any, tmp_path: Path, acme: Organization) -> None:
    seed_phi_prerequisites(sqlite_store, "eastside-specialty", tmp_path, skip=("baa",))
    with pytest.raises(PhiBlocked, match="baa: no evidence on record"):
        run_phi_guard(_ctx(sqlite_store, acme), dict(PARAMS))
    assert _events(sqlite_store) == ["phi_guard.blocked"]


def test_open_with_every_prerequisite(sqlite_store: Any, tmp_path: Path, acme: Organization) -> None:
    seed_phi_prerequisites(sqlite_store, "eastside-specialty", tmp_path)
    out = run_phi_guard(_ctx(sqlite_store, acme), {**PARAMS, "missing": []})
    assert out == {"location": "eastside-specialty", "allowed": True, "overridden": False, "missing": []}
    assert guard_request({**PARAMS, "missing": []}, "phi-guard") is None  # nothing to ask


def test_override_by_a_named_role_with_a_reason(sqlite_store: Any, tmp_path: Path, acme: Organization) -> None:
    seed_phi_prerequisites(sqlite_store, "eastside-specialty", tmp_path, skip=("baa",))
    request = guard_request(dict(PARAMS), "phi-guard")
    assert request is not None and request.kind == "approval" and request.approvers == ("Legal", "VP of IT")
    decision = Approval("approve", "Helen Marsh", "Legal", "BAA signed today; the scan is a test record")
    out = run_phi_guard(_ctx(sqlite_store, acme, decision), dict(PARAMS))
    assert out["overridden"] is True and out["approved_by"] == "Helen Marsh"
    (approval,) = sqlite_store.approvals_for_run("run-1")
    assert (approval.name, approval.role, approval.decision) == ("Helen Marsh", "Legal", "approve")
    (entry,) = [e for e in sqlite_store.audit.entries() if e.event == OVERRIDE_EVENT]
    assert entry.data["reason"] == decision.comment and entry.data["missing"][0].startswith("baa:")
    status = compliance_status(sqlite_store, acme, today=approval.decided_at.date(), location="eastside-specialty")
    assert [o.approved_by for o in status.overrides] == ["Helen Marsh"]  # every later report shows it


@pytest.mark.parametrize(("decision", "error", "event"), [
    (Approval("approve", "Tom Becker", "Central IT", "I think it is fine"), ApprovalRejected, "phi_guard.refused"),
    (Approval("approve", "Helen Marsh", "Legal", "  "), ApprovalRejected, "phi_guard.refused"),
    (Approval("reject", "Helen Marsh", "Legal", "Wait for the countersigned BAA"), PhiBlocked, "phi_guard.blocked"),
])
def test_no_override_without_the_role_a_reason_and_an_approval(sqlite_store: Any, tmp_path: Path, acme: Organization,
                                                               decision: Approval, error: type[Exception],
                                                               event: str) -> None:
    seed_phi_prerequisites(sqlite_store, "eastside-specialty", tmp_path, skip=("baa",))
    with pytest.raises(error):
        run_phi_guard(_ctx(sqlite_store, acme, decision), dict(PARAMS))
    assert _events(sqlite_store) == [event] and sqlite_store.approvals_for_run("run-1") == []
