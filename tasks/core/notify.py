"""`notify`: record a message to roles in the run log and the audit log (delivery channels come later)."""

from __future__ import annotations

from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.kind import StepKind


def recipients(org: Any, roles: list[str], location: str | None = None) -> list[str]:
    """Names of the organization's people holding any of `roles` (none when no org is loaded).

    With `location`, people tied to another location or to another region are left out, so a
    message about one clinic reaches its office manager and its region's manager, not everyone's.
    """
    if org is None or not hasattr(org, "people_with_role"):
        return []
    region = None
    if location is not None:
        region = org.location(location).region  # raises UnknownLocation (a user error) for a bad id
    names: list[str] = []
    for role in roles:
        for person in org.people_with_role(role):
            if location is not None and (
                (person.location is not None and person.location != location)
                or (person.location is None and person.region is not None and person.region != region)
            ):
                continue
            if person.name not in names:
                names.append(person.name)
    return names


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    names = recipients(ctx.org, params["to"], params.get("location"))
    ctx.logger.info("notify %s: %s", ", ".join(params["to"]), params["message"])
    ctx.audit("notify", {"step": ctx.step_key, "to": params["to"], "recipients": names, "message": params["message"]})
    out = {"to": params["to"], "recipients": names, "message": params["message"]}
    return {**out, "location": params["location"]} if params.get("location") else out


KIND = StepKind(name="notify", run=run)
KINDS = (KIND,)
