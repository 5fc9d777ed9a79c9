"""The shape of a step kind's implementation, shared by the registry and every kind module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the registry (and so `golive validate`) never loads the run context
    from golive.tasks.context import InputRequest, StepContext

RunFn = Callable[["StepContext", dict[str, Any]], dict[str, Any]]
InputFn = Callable[[dict[str, Any], str], "InputRequest | None"]


@dataclass(frozen=True)
class StepKind:
    """A kind's code: `run(ctx, params) -> outputs` (a JSON-able dict), plain Python.

    `request_input(params, step_key)`: the human decision it needs, if any. What the engine must
    know before running it (summary, flags) is declared once, in `golive.tasks.registry`, so that
    validating a runbook never imports a kind's implementation (torch, scipy, highdicom, ...).
    """

    name: str
    run: RunFn
    request_input: InputFn | None = None


@dataclass(frozen=True)
class OverrideWording:
    """How a guard kind names what an override lifts, in its refusals and audit events."""

    subject: str  # "the PHI guard", "these rules": "'Office Manager' may not override <subject>"
    reason_subject: str  # "the PHI guard", "a hard rule": "an override of <reason_subject> needs a reason"
    kept: str  # "kept the PHI guard closed for X": the rejection's message after "<name> (<role>) "
    refused_event: str  # audit event of a refused override (wrong role, not a holder, no reason)
    kept_event: str  # audit event of a rejection (the guard stays)


def accept_override(ctx: StepContext, decision: Any, record: dict[str, Any], approvers: list[str],
                    wording: OverrideWording, kept_error: type[Exception],
                    holds_role: Callable[[str, str], bool] | None = None) -> None:
    """The checks every guard override shares, then the approval recorded with the step's store.

    Allowed role (held by that person where the organization can tell), an `approve` decision and a
    non-empty reason; each refusal is audited before it is raised. The caller audits the override."""
    from golive.tasks.foundation.errors import ApprovalRejected

    if decision.role.casefold() not in {r.casefold() for r in approvers}:
        ctx.audit(wording.refused_event, record)
        raise ApprovalRejected(f"{decision.role!r} may not override {wording.subject}; approvers: {', '.join(approvers)}")
    if holds_role is not None and not holds_role(decision.name, decision.role):
        ctx.audit(wording.refused_event, {**record, "why": "not a person with that role in the organization"})
        raise ApprovalRejected(f"{decision.name} does not hold the role {decision.role} in the organization file")
    if decision.decision != "approve":
        ctx.audit(wording.kept_event, record)
        raise kept_error(f"{decision.name} ({decision.role}) {wording.kept}")
    if not decision.comment.strip():
        ctx.audit(wording.refused_event, {**record, "why": "no reason given"})
        raise ApprovalRejected(f"an override of {wording.reason_subject} needs a reason (the approval's comment)")
    ctx.store.record_approval(run_id=ctx.run_id, step_key=ctx.step_key, decision=decision.decision,
                              name=decision.name, role=decision.role, comment=decision.comment)
