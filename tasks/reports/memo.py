"""The go/no-go decision memo's data: the gate's outputs turned into a one-page decision for people.

Answer first (recommendation), then the measured facts with units and data period, the cause of a
NO-GO with measured values and how long they were measured, the rollback trigger check, actions
with owners and due dates, the re-review date and the effect on the timeline. It never reports a
share of criteria passed: one failed critical criterion is a NO-GO however many others pass.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.reports import display

_PERIOD = re.compile(r"\((\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)\)")

# Who acts on a failed criterion, and what they do (by metric). Owners are roles, named from the org.
ACTIONS: dict[str, tuple[str, str]] = {
    "uptime_pct": ("VP of IT", "Find and fix the cause of the downtime with the vendor; show {days} days {threshold}"),
    "critical_bugs_open": ("VP of IT", "Close the open critical bugs with the vendor's integration specialist"),
    "training_completion_pct": ("Office Manager", "Finish the remaining staff training and record it in the training log"),
    "adoption_pct": ("Clinical Lead", "Coach the providers below target with the location's champion"),
    "case_acceptance_pct": ("CDO", "Review case presentation with the AI findings at the locations that fell"),
    "champion_ready": ("Regional Manager", "Meet the champion; resolve what keeps them from recommending"),
}


def _person(org: Any, role: str, location: str | None = None) -> str:
    """'Name (Role)' of the first person with `role` (at `location` when given), else the role."""
    people = getattr(org, "people", ()) if org is not None else ()
    ranked = [p for p in people if role in p.roles and (location is None or p.location in (None, location))]
    ranked.sort(key=lambda p: p.location != location)
    return f"{ranked[0].name} ({role})" if ranked else role


def _period(window: str) -> tuple[str | None, str | None]:
    m = _PERIOD.search(window or "")
    return (m.group(1), m.group(2)) if m else (None, None)


def assemble(scope: dict[str, Any], params: dict[str, Any], org: Any) -> dict[str, Any]:
    context = params.get("context") or {}
    gid = context.get("gate", "gate")
    step = (scope.get("steps") or {}).get(gid)
    outputs = getattr(step, "outputs", None) if step is not None and not isinstance(step, dict) else (step or {}).get("outputs")
    if not outputs or "verdict" not in outputs:
        raise StepFailed(f"go-no-go memo: step {gid!r} produced no verdict")
    verdict = outputs["verdict"]
    as_of = outputs["as_of"]
    subject = context.get("subject", "the next wave")
    decision_role = outputs.get("decide_role") or context.get("decide_role") or "COO"
    re_review_days = int(context.get("re_review_days", 7))
    re_review = date.fromisoformat(as_of) + timedelta(days=re_review_days)

    facts: list[dict[str, str]] = []
    causes: list[str] = []
    actions: list[dict[str, str]] = []
    risks: list[str] = []
    starts: list[str] = []
    ends: list[str] = []
    for c in outputs.get("criteria", []):
        metric = c.get("metric", "")
        first, last = _period(c.get("window", ""))
        if first and last:
            starts.append(first)
            ends.append(last)
        results = c.get("results") or []
        values = [r["value"] for r in results if r.get("value") is not None]
        need = display.threshold(metric, c.get("op"), c.get("threshold"))
        if c.get("test") == "no_decrease":
            need = "no significant decrease from baseline"
        measured = _measured(c, metric, values)
        status = {"pass": "met", "fail": "NOT\u00a0MET", "inconclusive": "not enough data"}.get(c["status"], c["status"])
        facts.append({"criterion": c["title"], "result": status, "measured": measured, "needed": need,
                      "period": f"{display.day(first)} to {display.day(last)}" if first else c.get("window", "")})
        if c["status"] == "fail":
            role, text = ACTIONS.get(metric, ("VP of Ops", "Resolve: {title}"))
            for r in results:
                if r.get("status") != "fail":
                    continue
                where = display.location_name(org, r["location"]) if r["location"] != "(all)" else "the wave"
                days = r.get("n") or 0
                causes.append(f"{c['title']}: {where} measured {display.value(metric, r.get('value'))} "
                              f"over {days} day{'s' if days != 1 else ''} of data"
                              + (f" (needs {need})" if need else "") + ".")
                owner_loc = r["location"] if role == "Office Manager" else None
                actions.append({
                    "action": text.format(days=c.get("evidence", {}).get("min_samples", 14), threshold=need,
                                          title=c["title"]) + f" ({where})",
                    "owner": _person(org, role, owner_loc), "due": display.day(re_review - timedelta(days=1)),
                })
        elif c["status"] == "inconclusive":
            risks.append(f"{c['title']}: not enough data yet ({c.get('reason', '')}).")
        elif c.get("op") and c.get("threshold") is not None and values and metric.endswith("_pct"):
            low = min(values)
            if float(c["threshold"]) < 100 and abs(low - float(c["threshold"])) < 2.0:
                risks.append(f"{c['title']}: lowest location at {display.value(metric, low)}, within 2 points of the "
                             f"threshold ({need}).")
    rollback = context.get("rollback")
    rb_step = (scope.get("steps") or {}).get(rollback) if rollback else None
    rb_out = (getattr(rb_step, "outputs", None) if rb_step is not None and not isinstance(rb_step, dict)
              else (rb_step or {}).get("outputs")) if rb_step is not None else None
    if rb_out is None:
        rollback_line = "Not checked in this run (no rollback-trigger step)."
        rollback_met = None
    else:
        hit = [display.location_name(org, a["location"]) for a in rb_out.get("affected", [])]
        rollback_met = bool(hit)
        shown = ", ".join(hit[:MAX_LINES]) + (f" and {len(hit) - MAX_LINES} more" if len(hit) > MAX_LINES else "")
        rollback_line = (f"Yes: {shown} met a rollback trigger in the data period; the rollback runbook applies."
                         if hit else "No: no location met a rollback trigger in the data period (availability below "
                                     "95% for more than 2 days, clinical safety, refusal above 50%, data loss).")
    next_start = context.get("next_wave_start") or ""
    if verdict == "go":
        recommendation = f"GO: start {subject}."
        timeline = (f"{subject[0].upper() + subject[1:]} starts as planned"
                    + (f" on {display.day(next_start)}." if next_start else "."))
        actions = [
            {"action": f"Confirm the start of {subject} with the regional managers", "owner": _person(org, "VP of Ops"),
             "due": display.day(date.fromisoformat(as_of) + timedelta(days=2))},
            {"action": "Keep the rollback watch running for the live locations", "owner": _person(org, "VP of IT"),
             "due": "ongoing"},
            {"action": "Send the go-live packs to the next wave's office managers", "owner": _person(org, "VP of Ops"),
             "due": display.day(date.fromisoformat(as_of) + timedelta(days=3))},
        ]
    elif verdict == "no-go":
        recommendation = f"NO-GO: do not start {subject}. Every failed criterion below is critical."
        delay = ""
        if next_start:
            planned = date.fromisoformat(next_start)
            moved = max(planned, re_review + timedelta(days=1))
            delay = (f" The planned start of {display.day(planned)} moves to {display.day(moved)} at the earliest "
                     f"({(moved - planned).days} days later), and every later wave moves with it." if moved > planned else
                     f" The planned start of {display.day(planned)} holds only if the re-review passes.")
        timeline = f"{subject[0].upper() + subject[1:]} waits for the re-review on {display.day(re_review)}.{delay}"
    else:
        recommendation = (f"INCONCLUSIVE: not enough evidence to decide {subject}; "
                          f"{_person(org, decision_role)} decides.")
        timeline = f"Decision due by {display.day(re_review)}."
    kind = {"go": "GO", "no-go": "NO-GO"}.get(verdict, "INCONCLUSIVE")
    base_title = params.get("title") or "Go/no-go decision"
    return {
        "title": f"{base_title}: {kind}",
        "stem_suffix": kind,
        "date": display.day(as_of),
        "question": context.get("question") or f"Do we start {subject}?",
        "doc": {
            "verdict": verdict, "kind": kind, "recommendation": recommendation,
            "decision_owner": _person(org, decision_role), "as_of": display.day(as_of),
            "period": f"{display.day(min(starts))} to {display.day(max(ends))}" if starts else "",
            "facts": facts, "causes": _capped(causes, "more failing measurements (all in the stored verdict)"),
            "actions": _capped_rows(actions), "risks": risks[:3],
            "rollback_line": rollback_line, "rollback_met": rollback_met,
            "re_review": display.day(re_review), "timeline": timeline, "subject": subject,
        },
    }


def _measured(c: dict[str, Any], metric: str, values: list[float]) -> str:
    ev = c.get("evidence") or {}
    if c.get("test") == "no_decrease" and "effect" in ev:
        lo, hi = ev.get("ci_low"), ev.get("ci_high")
        ci = (f", {round(100 * float(ev.get('ci_level', 0.9)))}% CI {_signed(lo)} to {_signed(hi)} pts"
              if lo is not None and hi is not None else "")
        return f"change {_signed(float(ev['effect']))} pts{ci}"
    if not values:
        return "no data"
    if len(values) == 1:
        return display.value(metric, values[0])
    low, high = min(values), max(values)
    if low == high:
        return f"{display.value(metric, low)} at all {len(values)} locations"
    return f"{display.value(metric, low)} to {display.value(metric, high)} across {len(values)} locations"


def _signed(v: float) -> str:
    """+3.4 / −0.2: a true minus sign, so a line never breaks between the sign and the number."""
    return f"{v:+.1f}".replace("-", "\u2212")


MAX_LINES = 5  # the memo stays one page with 50 locations: the rest are counted, and stored


def _capped(lines: list[str], rest: str) -> list[str]:
    return lines if len(lines) <= MAX_LINES else [*lines[:MAX_LINES - 1], f"… and {len(lines) - MAX_LINES + 1} {rest}."]


def _capped_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(rows) <= MAX_LINES:
        return rows
    extra = rows[MAX_LINES - 1:]
    owners = sorted({r["owner"] for r in extra})
    return [*rows[:MAX_LINES - 1], {"action": f"The same for {len(extra)} more locations (listed in the stored verdict)",
                                    "owner": "; ".join(owners), "due": extra[0]["due"]}]
