"""`approval`: pause for a typed decision (approve/reject, name, role, comment).

A role outside `approvers` is refused and a rejection fails the step; both are recorded.
"""

from __future__ import annotations

from typing import Any

from golive.tasks.context import Approval, InputRequest, StepContext
from golive.tasks.foundation.errors import ApprovalRejected, InputRequired
from golive.tasks.kind import StepKind


def request_input(params: dict[str, Any], step_key: str) -> InputRequest:
    return InputRequest(
        kind="approval", step_key=step_key, question=params["question"], approvers=tuple(params["approvers"])
    )


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    decision = ctx.human_input
    if not isinstance(decision, Approval):
        raise InputRequired(f"step {ctx.step_key} needs an approval from one of: {', '.join(params['approvers'])}")
    allowed = {a.casefold() for a in params["approvers"]}
    record = {"step": ctx.step_key, "decision": decision.decision, "name": decision.name,
              "role": decision.role, "comment": decision.comment}
    if decision.role.casefold() not in allowed:
        ctx.audit("approval.refused", record)
        raise ApprovalRejected(
            f"{decision.role!r} may not decide {ctx.step_key}; approvers: {', '.join(params['approvers'])}"
        )
    if ctx.store is not None:
        ctx.store.record_approval(run_id=ctx.run_id, step_key=ctx.step_key, decision=decision.decision,
                                  name=decision.name, role=decision.role, comment=decision.comment)
    ctx.audit("approval.decided", record)
    if decision.decision != "approve":
        raise ApprovalRejected(f"{decision.name} ({decision.role}) rejected {ctx.step_key}: {decision.comment}".rstrip(": "))
    return {"decision": decision.decision, "approver": decision.name, "role": decision.role,
            "comment": decision.comment}


KIND = StepKind(name="approval", run=run, request_input=request_input)
KINDS = (KIND,)
