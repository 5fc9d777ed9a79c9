"""`register.update`: keep the risk and issue register in step with what the run observed.

Reads earlier steps' outputs: a gate's failing criteria per location (issues, owned per criterion as
in the decision memo) and its inconclusive criteria (decisions needed), a rollback-trigger step's
affected locations, and manual `items:`. With `checks:` it also judges, for the given locations, the
technical checks (organization file against the platform's requirements), the wave's size (the
playbook's caps) and the baselines (complete before any pilot activity), each through the same
rule the program's guards and the readiness assessment use. Rows of a re-checked source that are no
longer observed are closed, so a gate that passes again closes its own issues and a fixed
workstation closes its technical-check row.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.kind import StepKind
from golive.tasks.register.register import Entry, entries, observe
from golive.tasks.reports import display
from golive.tasks.reports.memo import ACTIONS, _person

CHECK_SOURCES = ("technical-check", "wave-size", "baseline-gap")


def _check_entries(ctx: StepContext, params: dict[str, Any], wave: str) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Technical-check failures, an oversized wave and baseline gaps for `checks.locations`."""
    from golive.tasks.planning.tech_check import check_locations
    from golive.tasks.program import guards
    from golive.tasks.program.repository import locations as planned

    spec = params["checks"]
    org = ctx.org
    if org is None:
        raise StepFailed("register.update: `checks` needs the organization")
    locs = [str(x) for x in spec.get("locations") or []]
    if not locs:
        raise UserInputError("register.update: checks.locations is empty")
    if spec.get("as_of"):
        as_of = date.fromisoformat(str(spec["as_of"]))
    elif ctx.run_started is not None or ctx.timeline_day is not None:
        as_of = ctx.today()
    else:
        raise UserInputError("register.update: checks.as_of is needed outside a run")
    from golive.tasks.reports.sources import planned_go_lives

    plan = planned(ctx.store)
    calendar = planned_go_lives(ctx.store)
    lead = timedelta(days=int(params.get("due_days", 7)))

    def due(loc: str) -> date:
        """A week before the location's go-live (done, else the readiness calendar's), else `due_days` from as_of."""
        on = (plan[loc].go_live_on if loc in plan else None) or calendar.get(loc)
        return max(as_of, on - lead) if on else as_of + lead

    found: list[Entry] = []
    rechecked: list[tuple[str, str]] = []
    kinds = set(spec.get("kinds") or CHECK_SOURCES)
    if "technical-check" in kinds:
        for result in check_locations(org, locs):
            rechecked.append(("technical-check", f"{result.location_id}/"))
            for c in result.failures:
                found.append(Entry("technical-check", f"{result.location_id}/{c.id}", f"{c.title}: {c.detail}",
                                   _person(org, "VP of IT"), severity="high" if c.status.value == "fail" else "medium",
                                   location=result.location_id, wave=wave, due=due(result.location_id)))
    wave_no = int(wave) if wave.isdigit() else None
    if "wave-size" in kinds and wave_no is not None:
        rechecked.append(("wave-size", f"wave {wave_no}"))
        for b in guards.wave_size(wave_no, locs):
            found.append(Entry("wave-size", b.subject, f"Wave too large: {b.detail} ({b.rule})",
                               _person(org, "VP of Ops"), kind="risk", wave=wave, due=as_of + lead, decision=True))
    if "baseline-gap" in kinds:
        for loc in locs:
            rechecked.append(("baseline-gap", loc))
        for b in guards.baselines(ctx.store, org, locs, as_of, wave_no):
            found.append(Entry("baseline-gap", b.subject, f"Baseline incomplete: {b.detail}",
                               _person(org, "VP of Ops", b.subject), kind="risk", location=b.subject, wave=wave,
                               due=due(b.subject)))
    return found, rechecked


def _outputs(ctx: StepContext, step_id: str) -> dict[str, Any]:
    step = (ctx.scope.get("steps") or {}).get(step_id)
    out = getattr(step, "outputs", None) if step is not None and not isinstance(step, dict) else (step or {}).get("outputs")
    if not out:
        raise StepFailed(f"register.update: step {step_id!r} has no outputs")
    return dict(out)


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None:
        raise StepFailed("register.update needs the store")
    org = ctx.org
    found: list[Entry] = []
    rechecked: list[tuple[str, str]] = []
    wave = str(params.get("wave", ""))
    if params.get("gate"):
        gate = _outputs(ctx, params["gate"])
        name = str(params.get("name") or ctx.runbook)
        as_of = date.fromisoformat(gate["as_of"])
        due = as_of + timedelta(days=int(params.get("due_days", 7)))
        rechecked.append(("gate-failure", f"{name}/"))
        for c in gate.get("criteria", []):
            role = ACTIONS.get(c.get("metric", ""), ("VP of Ops", ""))[0]
            for r in c.get("results") or []:
                loc = "" if r["location"].startswith("(") else r["location"]
                if r["status"] == "fail":
                    found.append(Entry("gate-failure", f"{name}/{c['id']}", f"{c['title']}: measured "
                                       f"{display.value(c.get('metric', ''), r.get('value'))} over {r.get('n')} days",
                                       _person(org, role, loc or None), location=loc, wave=wave, due=due))
                elif r["status"] == "inconclusive":
                    found.append(Entry("gate-failure", f"{name}/{c['id']}", f"{c['title']}: not enough data "
                                       f"({r.get('detail', '')}); decide whether to proceed",
                                       _person(org, gate.get("decide_role") or "COO"), kind="risk", severity="medium",
                                       location=loc, wave=wave, due=due, decision=True))
    if params.get("rollback"):
        trig = _outputs(ctx, params["rollback"])
        as_of = date.fromisoformat(trig["as_of"])
        rechecked.append(("rollback", "trigger/"))
        for a in trig.get("affected", []):
            found.append(Entry("rollback", "trigger/" + "+".join(a.get("triggers") or ["rollback"]), "Rollback trigger: "
                               f"{a.get('reason', 'a rollback trigger was met')}", _person(org, "VP of Ops"),
                               location=a["location"], wave=wave, due=as_of + timedelta(days=1)))
    if params.get("checks"):
        more, again = _check_entries(ctx, params, wave)
        found += more
        rechecked += again
    for i, item in enumerate(params.get("items") or []):
        if not isinstance(item, dict) or not item.get("title") or not item.get("owner"):
            raise UserInputError(f"register.update: items[{i}] needs a title and an owner")
        item_due = date.fromisoformat(str(item["due"])) if item.get("due") else None
        found.append(Entry("manual", str(item.get("id") or item["title"])[:255], str(item["title"]), str(item["owner"]),
                           kind=str(item.get("kind", "risk")), severity=str(item.get("severity", "medium")),
                           location=str(item.get("location", "")), wave=wave, due=item_due,
                           decision=bool(item.get("decision", False))))
    counts = observe(ctx.store, found, rechecked=rechecked, note=f"resolved as observed by run {ctx.run_key}")
    open_now = entries(ctx.store)
    ctx.audit("register.update", {"step": ctx.step_key, **counts, "open": len(open_now)})
    ctx.artifacts.table("risk-register", [{k: e[k] for k in ("kind", "title", "location", "owner", "due", "severity")}
                                          for e in open_now], description=f"{len(open_now)} open risks and issues")
    return {**counts, "open": len(open_now)}


KIND = StepKind(name="register.update", run=run)
KINDS = (KIND,)
