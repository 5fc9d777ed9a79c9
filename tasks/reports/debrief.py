"""Wave debrief with results: each target (adoption, uptime, support tickets, training) against what the
store measured over the wave's weeks since go-live, per location and for the wave, with the parallel
run's issues and the learnings in the confirmers' own words (checklist notes) and the register's items.

Targets are the playbook's (section 4, go/no-go criteria): adoption above 80% of plans, uptime above
99%, support tickets falling week on week, staff training 100% complete; training hours are reported
per location (from wave 2 the gate compares them with the earlier wave's)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.register.register import entries
from golive.tasks.reports import display, sources

ADOPTION_TARGET = 80.0
UPTIME_TARGET = 99.0


def _notes(scope: dict[str, Any], step_id: str) -> str:
    step = (scope.get("steps") or {}).get(step_id)
    out = getattr(step, "outputs", None) if step is not None and not isinstance(step, dict) else (step or {}).get("outputs")
    return str((out or {}).get("notes") or "").strip() if isinstance(out, dict) else ""


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None:
        raise StepFailed("wave debrief: needs the store (the wave's measured metrics)")
    context = params.get("context") or {}
    org = ctx.org
    locs = [str(x) for x in context.get("locations") or []]
    if not locs:
        raise StepFailed("wave debrief: no locations in `context.locations`")
    start = date.fromisoformat(str(context["start_date"]))
    go_live = start + timedelta(days=int(context.get("go_live_day", 14)))
    last = sources.measured_period(ctx.store, locs)
    name = {loc: display.location_name(org, loc) for loc in locs}
    wave = str(context.get("wave", ""))
    if last is None or last.end < go_live:
        period = None
        per_loc: dict[str, dict[str, float | None]] = {loc: {} for loc in locs}
    else:
        period = sources.Period(go_live, last.end)
        per_loc = sources.metric_summary(ctx.store, locs, period)
    weekly_tickets = sources.weekly_means(ctx.store, locs, "support_tickets", period.start, period.end) if period else []

    def values(metric: str) -> dict[str, float]:
        return {loc: float(v) for loc in locs if (v := per_loc[loc].get(metric)) is not None}

    adoption, uptime, hours, trained = (values(m) for m in ("adoption_pct", "uptime_pct", "training_hours",
                                                            "training_completion_pct"))
    targets = []

    def target(what: str, goal: str, measured: dict[str, float], ok: Any, wave_value: str) -> None:
        met = [loc for loc, v in measured.items() if ok(v)]
        state = "not measured" if not measured else ("met" if len(met) == len(locs) else "missed")
        targets.append({"target": what, "goal": goal, "result": wave_value if measured else "no data",
                        "met_at": f"{len(met)} of {len(locs)}", "state": state,
                        "missed": ", ".join(name[loc] for loc in locs if loc in measured and not ok(measured[loc]))
                        or ("—" if measured else "not measured")})

    def mean(d: dict[str, float]) -> float:
        return sum(d.values()) / len(d) if d else 0.0

    target("Provider adoption", f"above {ADOPTION_TARGET:.0f}% of plans (last 7 days)", adoption,
           lambda v: v > ADOPTION_TARGET, f"{mean(adoption):.1f}% (wave mean)")
    target("System uptime", f"above {UPTIME_TARGET:.0f}%", uptime, lambda v: v > UPTIME_TARGET,
           f"{mean(uptime):.2f}% (wave mean)")
    target("Staff training", "100% complete", trained, lambda v: v >= 100, f"{mean(trained):.0f}% (wave mean)")
    if len(weekly_tickets) >= 2:
        first, final = weekly_tickets[0][1], weekly_tickets[-1][1]
        falling = final < first
        targets.append({"target": "Support tickets", "goal": "falling week on week",
                        "result": f"{first:.1f} to {final:.1f} a day per location (week 1 to week {len(weekly_tickets)})",
                        "met_at": "wave", "state": "met" if falling else "missed", "missed": "—" if falling else "wave"})
    else:
        targets.append({"target": "Support tickets", "goal": "falling week on week", "result": "fewer than 2 weeks measured",
                        "met_at": "—", "state": "not measured", "missed": "not measured"})
    targets.append({"target": "Training hours", "goal": "recorded per location (compared from wave 2 on)",
                    "result": f"{mean(hours):.1f} hours per location" if hours else "no data",
                    "met_at": f"{len(hours)} of {len(locs)}", "state": "recorded" if len(hours) == len(locs) else
                    ("not measured" if not hours else "missed"),
                    "missed": ", ".join(name[loc] for loc in locs if loc not in hours) or "—"})
    judged = [t for t in targets if t["state"] in ("met", "missed")]
    met = sum(t["state"] == "met" for t in judged)
    unmeasured = [t["target"].lower() for t in targets if t["state"] == "not measured"]
    answer = (f"Wave {wave} met {met} of {len(judged)} measured target(s)"
              + (f"; missed: {', '.join(t['target'].lower() for t in judged if t['state'] == 'missed')}"
                 if met < len(judged) else "")
              + (f"; not measured: {', '.join(unmeasured)}" if unmeasured else "") + ".")
    rows = [{"location": name[loc], "adoption": display.value("adoption_pct", per_loc[loc].get("adoption_pct")),
             "uptime": display.value("uptime_pct", per_loc[loc].get("uptime_pct")),
             "tickets": display.value("support_tickets", per_loc[loc].get("support_tickets")),
             "hours": display.value("training_hours", per_loc[loc].get("training_hours")),
             "trained": display.value("training_completion_pct", per_loc[loc].get("training_completion_pct"))}
            for loc in sorted(locs, key=name.__getitem__)]
    items = [{"title": e["title"], "where": name.get(e["location"], "programme"), "owner": e["owner"],
              "due": display.day(e["due"]) or "no date"} for e in entries(ctx.store) if e["location"] in locs]
    scope = dict(ctx.scope)
    return {
        "date": display.day(period.end if period else go_live),
        "question": f"Did wave {wave} reach its targets, what did the parallel run find, and what do the next waves change?",
        "doc": {"answer": answer, "targets": targets, "rows": rows, "register": items[:15],
                "period": f"{display.day(period.start)} to {display.day(period.end)}" if period else
                f"nothing measured since the go-live on {display.day(go_live)}",
                "parallel_issues": _notes(scope, "parallel-run"), "learnings": _notes(scope, "stabilization"),
                "go_live": display.day(go_live), "wave": wave, "start": display.day(start),
                "names": [name[loc] for loc in locs]},
    }
