"""`notify`: record a message to roles in the run log and the audit log (delivery channels come later)."""

from __future__ import annotations

from typing import Any

from tasks.context import StepContext
from tasks.kind import StepKind


def recipients(org: Any, roles: list[str]) -> list[str]:
    """Names of the organization's people holding any of `roles` (none when no org is loaded)."""
    if org is None or not hasattr(org, "people_with_role"):
        return []
    names: list[str] = []
    for role in roles:
        names.extend(p.name for p in org.people_with_role(role) if p.name not in names)
    return names


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    names = recipients(ctx.org, params["to"])
    ctx.logger.info("notify %s: %s", ", ".join(params["to"]), params["message"])
    ctx.audit("notify", {"step": ctx.step_key, "to": params["to"], "recipients": names, "message": params["message"]})
    return {"to": params["to"], "recipients": names, "message": params["message"]}


KIND = StepKind(
    name="notify",
    run=run,
    summary="Record a message to roles in the run log and audit log",
    side_effects=True,
)
