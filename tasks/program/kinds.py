"""Program step kinds: `program.transition` (the only way a location's lifecycle changes),
`program.check` (which hard rules block a change), `program.override` (a recorded approval that
sets them aside), `program.validation` (an integration validation's outcome) and `program.board`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from golive.tasks.context import Approval, InputRequest, StepContext
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.foundation.names import location_name
from golive.tasks.kind import OverrideWording, StepKind, accept_override
from golive.tasks.program import board, guards, lifecycle, repository
from golive.tasks.program.lifecycle import State
from golive.tasks.program.slots import SlotBook


class GuardBlocked(StepFailed):
    """A playbook hard rule blocks the change and no recorded override lifts it."""


class SlotFull(StepFailed):
    """No go-live slot on the requested day (and the step was told to fail rather than wait)."""


def _store(ctx: StepContext) -> Any:
    if ctx.store is None:
        raise StepFailed(f"{ctx.step_key} needs the store")
    return ctx.store


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, Sequence) or not value:
        raise UserInputError("locations must be a non-empty list of location ids")
    return [str(v.get("location", v.get("id"))) if isinstance(v, Mapping) else str(v) for v in value]


def _known(ctx: StepContext, locations: Sequence[str]) -> None:
    org_locs = getattr(ctx.org, "locations", None)
    if org_locs is None:
        return
    unknown = [loc for loc in locations if loc not in {o.id for o in org_locs}]
    if unknown:
        raise UserInputError(f"{ctx.step_key}: unknown location id(s): {', '.join(unknown)}")


def today(ctx: StepContext) -> date:
    """The run's start day in the organization's time zone (a Sunday-evening start in Denver is
    still Sunday there, not Monday in UTC)."""
    started = ctx.run_started or datetime.now(UTC)
    tz = getattr(ctx.org, "timezone", None)
    return started.astimezone(ZoneInfo(tz)).date() if tz else started.date()


def holidays(ctx: StepContext, params: Mapping[str, Any]) -> frozenset[date]:
    """The organization's holidays and any the step adds (`holidays:`, YYYY-MM-DD)."""
    try:
        extra = frozenset(date.fromisoformat(str(d)) for d in params.get("holidays") or ())
    except ValueError:
        raise UserInputError(f"{ctx.step_key}: holidays must be dates (YYYY-MM-DD)") from None
    return frozenset(getattr(ctx.org, "holiday_days", frozenset())) | extra


def _wave(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserInputError(f"wave must be a number, got {value!r}") from None


def _blocks(ctx: StepContext, store: Any, target: State, locations: list[str], wave: int | None) -> list[guards.Block]:
    where = repository.locations(store)
    if target is State.SCHEDULED:
        planned = {loc for loc, w in where.items() if w.wave == wave and w.state not in (State.DEFERRED, State.ROLLED_BACK)}
        return guards.wave_size(wave, sorted(planned | set(locations)))
    if target is State.CONFIGURING:
        pilot = [loc for loc in locations if (wave or (where[loc].wave if loc in where else None)) == 1]
        if not pilot:
            return []
        if ctx.org is None or not hasattr(ctx.org, "locations"):
            raise StepFailed(f"{ctx.step_key} needs the organization file to check pilot baselines")
        return guards.baselines(store, ctx.org, pilot, today(ctx), 1)
    if target is State.LIVE:
        waves = {wave} if wave is not None else {where[loc].wave for loc in locations if loc in where}
        out = [b for w in sorted(x for x in waves if x is not None) for b in guards.previous_wave_go(store, w)]
        return out + guards.integration_validated(store, locations, wave)
    return []


def _targets(value: Any) -> list[State]:
    return [lifecycle.parse_state(v) for v in ([value] if isinstance(value, str) else list(value))]


# -- program.check ----------------------------------------------------------------------------

def run_check(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    if params.get("plan"):  # a whole wave plan ({wave: [ids]}): each wave against its own rules
        groups = [(_ids(ids), _wave(n)) for n, ids in dict(params["plan"]).items() if ids]
    else:
        groups = [(_ids(params["locations"]), _wave(params.get("wave")))]
    for locations, _w in groups:
        _known(ctx, locations)
    wave = groups[0][1] if len(groups) == 1 else None
    blocks = [b for t in _targets(params["to"]) for locs, w in groups for b in _blocks(ctx, store, t, locs, w)]
    still, used = guards.lifted(blocks, store)
    ctx.audit("program.check", {"step": ctx.step_key, "to": params["to"], "wave": wave,
                                "blocked": [b.to_dict() for b in still], "overridden": sorted(map(list, used))})
    if still:
        ctx.artifacts.table("program-guards", [b.to_dict() for b in still],
                            description=f"{len(still)} hard rule(s) block this change")
    return {"blocked": [b.to_dict() for b in still], "clear": not still,
            "overridden": [{"guard": g, "subject": s, "override_id": i} for (g, s), i in used.items()]}


# -- program.override -------------------------------------------------------------------------

def override_request(params: dict[str, Any], step_key: str) -> InputRequest | None:
    blocked = params.get("blocked") or []
    if not blocked:
        return None
    lines = "; ".join(f"{b['guard']} ({b['subject']}): {b['detail']}" for b in blocked)
    return InputRequest(kind="approval", step_key=step_key, approvers=tuple(params["approvers"]), question=(
        f"The playbook's hard rules block this: {lines}. Approve an override only with a reason; it is "
        "recorded and shown on the program board and in every later report."))


def _holds_role(org: Any, name: str, role: str) -> bool:
    people = getattr(org, "people", None)
    if not people:
        return True  # an organization without a people list cannot be checked by name
    return any(p.name.casefold() == name.casefold() and role.casefold() in {r.casefold() for r in p.roles}
               for p in people)


def run_override(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    blocked = list(params.get("blocked") or [])
    if not blocked:
        return {"overridden": [], "needed": False}
    shown = "; ".join(f"{b['guard']} ({b['subject']}): {b['detail']} — rule: {b['rule']}" for b in blocked)
    roles = list(params["approvers"])
    decision = ctx.human_input
    if not isinstance(decision, Approval):
        ctx.audit("program.blocked", {"step": ctx.step_key, "blocked": blocked})
        raise GuardBlocked(f"blocked by the playbook's hard rules: {shown}. An override needs an approval from "
                           f"{' or '.join(roles)} with a reason")
    record = {"step": ctx.step_key, "blocked": blocked, "approved_by": decision.name, "role": decision.role,
              "decision": decision.decision, "reason": decision.comment}
    accept_override(ctx, decision, record, roles,
                    OverrideWording("these rules", "a hard rule", f"kept the rules in force: {shown}",
                                    "program.override_refused", "program.blocked"), GuardBlocked,
                    holds_role=lambda name, role: _holds_role(ctx.org, name, role))
    ids = [repository.record_override(store, guard=b["guard"], subject=b["subject"], wave=b.get("wave"),
                                      detail=b["detail"], name=decision.name, role=decision.role,
                                      reason=decision.comment, run_id=ctx.run_id, step_key=ctx.step_key)
           for b in blocked]
    ctx.audit("program.override", {**record, "override_ids": ids})
    ctx.logger.warning("hard rule(s) overridden by %s (%s): %s", decision.name, decision.role, decision.comment)
    return {"overridden": [{**b, "override_id": i} for b, i in zip(blocked, ids, strict=True)], "needed": True,
            "approved_by": decision.name, "role": decision.role, "reason": decision.comment}


# -- program.transition -----------------------------------------------------------------------

def run_transition(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    locations = _ids(params["locations"])
    _known(ctx, locations)
    target = lifecycle.parse_state(params["to"])
    wave = _wave(params.get("wave"))
    if target is State.SCHEDULED and wave is None:
        raise UserInputError(f"{ctx.step_key}: scheduling a location needs its wave")
    if target is State.DEFERRED and not str(params.get("reason") or "").strip():
        raise UserInputError(f"{ctx.step_key}: deferring a location needs a reason")
    where = repository.locations(store)
    skipped: list[str] = []
    if params.get("only_from"):  # e.g. a rollback moves only locations the program tracks as live
        allowed = {None if str(v) == "untracked" else lifecycle.parse_state(v) for v in params["only_from"]}
        skipped = [loc for loc in locations if (where[loc].state if loc in where else None) not in allowed]
        locations = [loc for loc in locations if loc not in skipped]
        if not locations:
            ctx.audit("program.transition", {"step": ctx.step_key, "to": target.value, "changes": [],
                                             "skipped": skipped})
            return {"to": target.value, "changes": [], "locations": [], "skipped": skipped, "go_live_days": {}}
    illegal = []
    for loc in locations:
        w = where.get(loc)
        try:
            lifecycle.check(loc, w.state if w else None, target, w.paused_from if w else None)
        except lifecycle.IllegalTransition as exc:
            illegal.append(str(exc))
    if illegal:
        ctx.audit("program.illegal", {"step": ctx.step_key, "to": target.value, "errors": illegal})
        raise lifecycle.IllegalTransition("; ".join(illegal))
    still, used = guards.lifted(_blocks(ctx, store, target, locations, wave), store)
    if still:
        ctx.audit("program.blocked", {"step": ctx.step_key, "to": target.value, "blocked": [b.to_dict() for b in still]})
        raise GuardBlocked("blocked by the playbook's hard rules: " + "; ".join(b.format() for b in still)
                           + " (a program.override step records an approved override)")
    on = date.fromisoformat(str(params["on"])) if params.get("on") else today(ctx)
    on += timedelta(days=int(params.get("on_offset_days") or 0))  # the runbook's own schedule (one timeline)
    changes = []
    book = SlotBook.of(repository.go_live_days(store), holidays(ctx, params))
    when_full = str(params.get("when_full", "next"))
    for loc in locations:
        day = on
        loc_wave = wave if wave is not None else (where[loc].wave if loc in where else None)
        if target is State.LIVE:
            why = book.why_full(day, loc_wave)
            if why is not None:
                free = book.next_free(day, loc_wave)
                if when_full == "fail":
                    raise SlotFull(f"{loc}: no go-live slot on {day.isoformat()} ({why}); next free slot "
                                   f"{free.isoformat()}")
                day = free
            book.take(day, loc_wave)
        mine = tuple(i for (g, s), i in used.items() if s in (loc, f"wave {loc_wave}"))
        changes.append(repository.Change(loc, target, wave, day, params.get("reason"),
                                          list(params.get("remediation") or []) or None, mine))
    done = repository.apply(store, changes, run_id=ctx.run_id, step_key=ctx.step_key)
    ctx.audit("program.transition", {"step": ctx.step_key, "to": target.value, "changes": done, "skipped": skipped})
    return {"to": target.value, "changes": done, "locations": locations, "skipped": skipped,
            "go_live_days": {c["location"]: c["on"] for c in done} if target is State.LIVE else {}}


# -- program.plan -------------------------------------------------------------------------------

def run_plan(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    """Record the readiness assessment's wave plan: every location not yet in the program is
    assessed, then scheduled into its wave or deferred with a remediation plan. Locations the
    program already tracks are left as they are (a re-run never moves a live location back)."""
    from golive.tasks.program import remediation

    store = _store(ctx)
    start = date.fromisoformat(str(params["start"])[:10]) if params.get("start") else today(ctx)
    plan = {int(n): _ids(ids) for n, ids in dict(params.get("waves") or {}).items() if ids}
    deferred = list(params.get("deferred") or [])
    stored_phases = _record_phases(ctx, store, params.get("phases"))
    where = repository.locations(store)
    fresh = [loc.id for loc in getattr(ctx.org, "locations", ())] or sorted({i for ids in plan.values() for i in ids})
    fresh = [loc for loc in fresh if loc not in where]
    if not fresh:
        return {"assessed": [], "scheduled": {}, "deferred": [], "left": sorted(where), "phases": stored_phases,
                "duration": _duration(ctx, params, len(getattr(ctx.org, "locations", ()) or where))}
    blocks = [b for n, ids in plan.items() for b in guards.wave_size(n, ids)]
    still, used = guards.lifted(blocks, store)
    if still:
        ctx.audit("program.blocked", {"step": ctx.step_key, "to": "scheduled", "blocked": [b.to_dict() for b in still]})
        raise GuardBlocked("blocked by the playbook's hard rules: " + "; ".join(b.format() for b in still)
                           + " (split the wave in the plan, or a program.override step records an approval)")
    changes = [repository.Change(loc, State.ASSESSED, None, start, "readiness assessment") for loc in fresh]
    scheduled: dict[str, list[str]] = {}
    for n, ids in sorted(plan.items()):
        mine = tuple(i for (_g, s), i in used.items() if s == f"wave {n}")
        for loc in ids:
            if loc in fresh:
                changes.append(repository.Change(loc, State.SCHEDULED, n, start, f"wave {n} of the plan",
                                                  overrides=mine))
                scheduled.setdefault(str(n), []).append(loc)
    out_deferred: list[dict[str, Any]] = []
    for d in deferred:
        loc = str(d.get("id") if isinstance(d, Mapping) else d)
        if loc not in fresh:
            continue
        fixes = list(d.get("fix") or []) if isinstance(d, Mapping) else []
        tier = d.get("tier") if isinstance(d, Mapping) else None
        items = remediation.plan(fixes, start, holidays(ctx, params))
        reason = f"tier {tier}" if tier else "not scored (data missing)"
        changes.append(repository.Change(loc, State.DEFERRED, None, start, reason, items))
        out_deferred.append({"location": loc, "reason": reason, "remediation": items})
    done = repository.apply(store, changes, run_id=ctx.run_id, step_key=ctx.step_key)
    ctx.audit("program.transition", {"step": ctx.step_key, "to": "plan", "changes": done})
    if out_deferred:
        ctx.artifacts.table("remediation-plan", [{"location": d["location"], **i} for d in out_deferred
                                                 for i in d["remediation"]],
                            description=f"{len(out_deferred)} deferred location(s): remediation before re-assessment")
    return {"assessed": fresh, "scheduled": scheduled, "deferred": out_deferred, "left": sorted(where),
            "phases": stored_phases,
            "duration": _duration(ctx, params, len(getattr(ctx.org, "locations", ()) or fresh))}


def _record_phases(ctx: StepContext, store: Any, value: Any) -> list[dict[str, Any]]:
    """Store the calendar's phases as the plan (each wave's own calendar for its due dates)."""
    if not value:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise UserInputError(f"{ctx.step_key}: phases must be the calendar's plan_phases list")
    try:
        planned = [repository.PlannedPhase(
            str(p["phase"]), int(p["wave"]) if p.get("wave") is not None else None,
            date.fromisoformat(str(p["starts_on"])[:10]),
            date.fromisoformat(str(p["first_go_live"])[:10]) if p.get("first_go_live") else None,
            date.fromisoformat(str(p["ends_on"])[:10])) for p in value]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserInputError(f"{ctx.step_key}: phases: each needs phase, starts_on and ends_on as "
                             f"YYYY-MM-DD ({exc})") from None
    backwards = [p.phase for p in planned if p.ends_on < p.starts_on]
    if backwards:
        raise UserInputError(f"{ctx.step_key}: phases end before they start: {', '.join(backwards)}")
    repository.record_phases(store, planned, run_id=ctx.run_id)
    out = [p.to_dict() for p in planned]
    ctx.audit("program.plan_phases", {"step": ctx.step_key, "phases": out})
    return out


def _duration(ctx: StepContext, params: dict[str, Any], locations: int) -> dict[str, Any] | None:
    """The plan's weeks to full deployment against the playbook: 16–20 weeks for about 25
    locations, 20–28 for about 50 (flagged and audited when outside; the calendar decides)."""
    if not params.get("weeks"):
        return None
    weeks = int(params["weeks"])
    span = (16, 20) if locations <= 25 else (20, 28) if locations <= 50 else None
    within = None if span is None else span[0] <= weeks <= span[1]
    out = {"weeks": weeks, "locations": locations, "playbook": None if span is None else f"{span[0]}–{span[1]}",
           "within": within}
    if within is False:
        ctx.audit("program.duration", {"step": ctx.step_key, **out})
        ctx.logger.warning("plan takes %d weeks for %d locations; the playbook says %s", weeks, locations, out["playbook"])
    return out


# -- program.validation -----------------------------------------------------------------------

def run_validation(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    location = str(params["location"])
    _known(ctx, [location])
    passed = bool(params.get("passed", True))
    evidence = str(params.get("evidence") or "") or None
    repository.record_validation(store, location=location, passed=passed, evidence=evidence, run_id=ctx.run_id)
    ctx.audit("program.validation", {"step": ctx.step_key, "location": location, "passed": passed,
                                     "evidence": evidence})
    return {"location": location, "passed": passed, "evidence": evidence}


# -- program.board ----------------------------------------------------------------------------

def run_board(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    b = board.build(store, ctx.org, today(ctx))
    path = board.publish(b, ctx.out_dir, ctx.artifacts)
    reminders = [{"to": [str(r["owner"] or "VP of Ops")], "location": r["location"],
                  "message": f"{location_name(ctx.org, r['location'])}: overdue remediation: {item}"}
                 for r in b["locations"] for item in r["overdue"]]
    return {"file": str(path), "waves": b["waves"], "locations": len(b["locations"]),
            "overrides": len(b["overrides"]), "reminders": reminders}


# -- program.deadlines --------------------------------------------------------------------------

def run_deadlines(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    """Rollback deadlines and overdue steps checked while a phase runs (tasks/program/deadlines.py);
    each reminder once (an hourly schedule does not repeat itself)."""
    from golive.tasks.foundation.durations import parse_duration
    from golive.tasks.gates.deadline import parse_instant
    from golive.tasks.program import deadlines

    store = _store(ctx)
    now = parse_instant(params["now"], "now") if params.get("now") else datetime.now(UTC)
    try:
        phases = [deadlines.RollbackPhase(str(p["step"]), str(p.get("phase") or p["step"]),
                                          timedelta(seconds=parse_duration(p["within"])),
                                          tuple(str(r) for r in p.get("escalate_to") or ("VP of Ops",)))
                  for p in params.get("rollback_phases") or ()]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"{ctx.step_key}: rollback_phases: each needs step and within ({exc})") from None
    tz = getattr(ctx.org, "timezone", None)
    day = now.astimezone(ZoneInfo(tz)).date() if tz else now.date()
    rows, overdue = deadlines.rollback_checks(store, phases, now)
    overdue += deadlines.step_checks(store, day)
    new = deadlines.fresh(overdue, deadlines.given(store))
    for r in new:
        ctx.audit(deadlines.REMINDER_EVENT, {"step": ctx.step_key, **r.to_dict()})
        ctx.logger.warning("deadline reminder to %s: %s", ", ".join(r.to), r.message)
    if rows:
        ctx.artifacts.table("rollback-deadlines", rows, description="Open rollbacks: each phase's deadline")
    return {"checked_at": now.isoformat(), "rollbacks": rows, "overdue": [r.to_dict() for r in overdue],
            "reminders": [r.to_dict() for r in new]}


# -- program.invariants -------------------------------------------------------------------------

class InvariantBroken(StepFailed):
    """The store shows a change that broke one of the program's invariants."""


def run_invariants(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    from golive.tasks.program import invariants

    results = [r.to_dict() for r in invariants.check(_store(ctx), today=today(ctx))]
    ctx.artifacts.table("program-invariants", results, description="Program invariants over the stored history")
    broken = [r for r in results if r["broken"]]
    ctx.audit("program.invariants", {"step": ctx.step_key, "results": [{k: r[k] for k in ("invariant", "checked", "broken")}
                                                                       for r in results]})
    if broken and params.get("fail_on_broken", True):
        raise InvariantBroken("program invariants broken: " + "; ".join(
            f"{r['invariant']} ({r['broken']} of {r['checked']}): {r['details'][0]}" for r in broken))
    return {"results": results, "broken": sum(r["broken"] for r in results),
            "checked": sum(r["checked"] for r in results)}


KINDS: tuple[StepKind, ...] = (
    StepKind("program.transition", run_transition),
    StepKind("program.check", run_check),
    StepKind("program.override", run_override, request_input=override_request),
    StepKind("program.plan", run_plan),
    StepKind("program.deadlines", run_deadlines),
    StepKind("program.validation", run_validation),
    StepKind("program.board", run_board),
    StepKind("program.invariants", run_invariants),
)
