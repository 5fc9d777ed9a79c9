"""`checklist`: items checked by an expression, or confirmed by a person.

Manual items (no `check`) are confirmed through the same input mechanism as approvals: a form
with one checkbox per item in the Prefect UI, `--confirm STEP` or an inputs file on the CLI.
"""

from __future__ import annotations

from typing import Any

from golive.tasks.context import Confirmation, InputRequest, StepContext
from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.foundation.durations import parse_due
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.kind import StepKind


def _manual(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in params["items"] if not item.get("check")]


def request_input(params: dict[str, Any], step_key: str) -> InputRequest | None:
    manual = _manual(params)
    if not manual:
        return None
    return InputRequest(
        kind="confirm",
        step_key=step_key,
        question=params.get("title") or f"Confirm the items of {step_key}",
        items=tuple((item["id"], item["text"]) for item in manual),
        owners=tuple(item.get("owner") for item in manual),
        dues=tuple(item.get("due") for item in manual),
    )


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    confirmed: frozenset[str] = frozenset()
    confirmer = notes = ""
    if isinstance(ctx.human_input, Confirmation):
        confirmed, confirmer, notes = ctx.human_input.confirmed, ctx.human_input.name, ctx.human_input.comment
    results = []
    for item in params["items"]:
        if item.get("check"):
            state = "passed" if ctx.evaluate(item["check"]) else "failed"
        else:
            state = "confirmed" if item["id"] in confirmed else "unconfirmed"
        due_date = None
        calendar = ctx.dues or (DueCalendar(ctx.today()) if ctx.run_started or ctx.timeline_day else None)
        if item.get("due") and calendar is not None:
            due_date = calendar.day(parse_due(item["due"])).isoformat()
        results.append(
            {"id": item["id"], "text": item["text"], "state": state, "owner": item.get("owner"),
             "due": item.get("due"), "due_date": due_date}
        )
    outputs = {"items": results, "confirmed_by": confirmer or None, "notes": notes,
               "passed": all(r["state"] in ("passed", "confirmed") for r in results)}
    if confirmer:
        ctx.audit("checklist.confirmed", {"step": ctx.step_key, "by": confirmer, "items": sorted(confirmed)})
    bad = [r["id"] for r in results if r["state"] not in ("passed", "confirmed")]
    if bad:
        raise StepFailed(f"checklist items not done: {', '.join(bad)}")
    return outputs


KIND = StepKind(name="checklist", run=run, request_input=request_input)
KINDS = (KIND,)
