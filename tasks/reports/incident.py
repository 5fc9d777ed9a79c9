"""Rollback incident report: trigger, timeline against the playbook's 2-hour / 24-hour / 1-week
deadlines, scope, root cause and remediation (as confirmed in the run), revised timeline (the
executive approval) and the communication log (every message of the run, from the delivery ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from golive.tasks.delivery.send import history
from golive.tasks.reports import display


def _step(scope: dict[str, Any], step_id: str) -> tuple[str, dict[str, Any]]:
    step = (scope.get("steps") or {}).get(step_id)
    if step is None:
        return "not reached", {}
    if isinstance(step, dict):
        return str(step.get("state", "")), dict(step.get("outputs") or {})
    return str(getattr(step, "state", "")), dict(getattr(step, "outputs", None) or {})


def _when(text: str | None) -> str:
    if not text:
        return ""
    t = datetime.fromisoformat(str(text))
    return f"{display.day(t.date())} {t:%H:%M} UTC"


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    scope = dict(ctx.scope)
    p = scope.get("params") or {}
    org = ctx.org
    names = [display.location_name(org, x) for x in p.get("locations") or []]
    timeline = []
    for sid, label in (("deadline-2h", "Immediate steps (2 hours)"), ("deadline-24h", "Root cause and impact (24 hours)"),
                       ("deadline-1w", "Remediation and revised timeline (1 week)")):
        state, out = _step(scope, sid)
        verdict = "not reached" if not out else ("LATE" if out.get("overdue") else "on time")
        timeline.append({"phase": label, "due": _when(out.get("due_at")), "checked": _when(out.get("checked_at")),
                         "result": verdict})
    _, impact = _step(scope, "impact")
    others = [display.location_name(org, x) for x in impact.get("locations") or [] if x not in (p.get("locations") or [])]
    rc_state, _ = _step(scope, "within-24h")
    rem_state, _ = _step(scope, "remediation")
    rt_state, revised = _step(scope, "revised-timeline")
    log = []
    if ctx.store is not None:
        for d in history(ctx.store, ctx.run_key):
            log.append({"step": d["step_key"], "channel": d["channel"], "state": d["state"],
                        "to": f"{len(d['recipients'])} recipient(s)", "subject": d["subject"]})
    approved = (f"approved by {revised.get('approver')} ({revised.get('role')})"
                + (f": \"{revised['comment']}\"" if revised.get("comment") else "") if revised.get("approver")
                else f"not decided ({rt_state})")
    return {
        "date": display.day(ctx.today()),  # the run's day on the plan (its `as_of`: the trigger's data day)
        "question": f"What happened at {', '.join(names)}, what was done, and what changes in the plan?",
        "doc": {
            "locations": ", ".join(names), "reason": p.get("reason", ""), "triggered": _when(p.get("triggered_at")),
            "timeline": timeline, "isolated": not others, "others": ", ".join(others),
            "root_cause": "documented and confirmed in the run" if rc_state == "completed" else f"open ({rc_state})",
            "remediation": (f"plan agreed with {p.get('vendor', 'the vendor')}" if rem_state == "completed"
                            else f"open ({rem_state})"),
            "revised": approved, "log": log,
            "late": [t["phase"] for t in timeline if t["result"] == "LATE"],
        },
    }
