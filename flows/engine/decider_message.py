"""Tell the people a paused run waits for: one message per pause, through the organization's channels.

A deployment run that pauses for an approval or a checklist sends the roles it waits for (the
approvers, or the owners of the items still open) the step, the question and a link to the run in
the Prefect UI. It goes through `notify` (email, webhooks, or the outbox when no channel is set),
so the delivery ledger keeps it to one message per pause. Only role holders tied to the run's
locations (its `location` / `locations` parameters) or to their regions get it; holders with
neither (CEO, CFO, COO, ...) always do, and a run without locations goes to every holder. The
ledger's step key is the step key plus the pause key (`<step>`, `<step>-1`, ... for a checklist
that pauses again), and a rerun that pauses on the same key finds the row and sends nothing. A
failed delivery is logged and never fails the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from golive.flows.engine.locks import LOCATION_PARAMETERS
from golive.tasks.context import InputRequest, StepContext


def roles_for(request: InputRequest) -> list[str]:
    """Who may answer: an approval's approvers; a checklist's item owners (those named), in order."""
    if request.kind == "approval":
        return list(request.approvers)
    return list(dict.fromkeys(owner for owner in request.owners if owner))


def run_locations(params: Mapping[str, Any] | None) -> list[str]:
    """The location ids a run is about (its `location` / `locations` parameters), in order."""
    found: list[str] = []
    for name in LOCATION_PARAMETERS:
        value = (params or {}).get(name)
        for item in [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []:
            if isinstance(item, str) and item and item not in found:
                found.append(item)
    return found


def message_text(request: InputRequest, note: str, url: str | None) -> tuple[str, str]:
    """(subject, body): the step, the question, the roles and the run's link. Only runbook text; no PHI."""
    roles = roles_for(request)
    subject = f"Decision needed: {request.step_key}"
    flat = note.replace("**", "")
    body = (f"{flat}\n\nWaiting for: {', '.join(roles) or 'anyone on the rollout team'}\n"
            + (f"Answer with Resume in the Prefect UI: {url}\n" if url else
               "Answer with Resume on this run in the Prefect UI.\n"))
    return subject, body


def tell_deciders(rc: Any, request: InputRequest, pause_key: str, note: str, url: str | None,
                  logger: Any) -> None:
    """Send the pause's message once (ledger key: run key + step key + pause key); log, never raise."""
    from golive.tasks.core import notify

    subject, body = message_text(request, note, url)
    step_key = f"{request.step_key}@pause:{pause_key}"
    ctx = StepContext(run_id=rc.run_id, run_key=rc.run_key, runbook=rc.runbook.name, step_id=request.step_key,
                      step_key=step_key, org=rc.org, store=rc.store, out_dir=rc.out_dir, run_started=rc.started,
                      timeline_day=getattr(rc, "timeline", None),
                      audit=lambda event, data: rc.store.audit.append(event, dict(data), run_id=rc.run_id),
                      logger=logger)
    try:
        notify.run(ctx, {"to": roles_for(request), "subject": subject, "message": body,
                         "locations": run_locations(getattr(rc, "params", None))})
    except Exception as exc:  # a delivery problem must not fail or stall the run
        logger.warning("%s: the message to %s was not delivered: %s", request.step_key,
                       ", ".join(roles_for(request)) or "the rollout team", exc)
