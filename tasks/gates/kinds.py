"""Gate step kinds: `gate`, `probe.http`, `metrics.simulate`, `rollback.triggers`, `rollback.start`,
`rollout.set` and `deadline.check`. Thin wrappers: the work is in the plain modules beside them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation import paths
from golive.tasks.foundation.durations import parse_duration
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.gates import (
    collected,
    completeness,
    deadline,
    importer,
    launch,
    repository,
    simulator,
    triggers,
)
from golive.tasks.gates.criteria import Op, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.gates.probe import probe, safe_target
from golive.tasks.gates.verdict import Decision, clean
from golive.tasks.kind import StepKind


class GateNoGo(StepFailed):
    """A gate decided no-go: a critical criterion failed."""


class DeadlineMissed(StepFailed):
    """A rollback deadline passed and the step was told to fail rather than escalate."""


def _need_store(ctx: StepContext) -> Any:
    if ctx.store is None:
        raise UserInputError(f"step {ctx.step_key} needs the store")
    return ctx.store


def _org_locations(ctx: StepContext) -> list[str] | None:
    locs = getattr(ctx.org, "locations", None)
    return None if locs is None else [loc.id for loc in locs]


def _id_list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise UserInputError(f"{what} must be a list of location ids")
    return [str(v.get("location", v.get("id"))) if isinstance(v, Mapping) else str(v) for v in value]


def _check_known(ctx: StepContext, locations: Sequence[str]) -> None:
    known = _org_locations(ctx)
    if known is None:
        return
    unknown = [loc for loc in locations if loc not in known]
    if unknown:
        raise UserInputError(f"unknown location id(s): {', '.join(unknown)}")


# -- gate -------------------------------------------------------------------------------------

def run_gate(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    locations = _id_list(params["locations"], "locations") if params.get("locations") else _org_locations(ctx)
    live = params.get("live_since") or None  # empty: not given (a gate run by hand over one go-live)
    if live is not None and not isinstance(live, Mapping):
        raise UserInputError(f"step {ctx.step_key}: live_since must map location ids to go-live days (YYYY-MM-DD)")
    spec = parse_spec(params["criteria"], periods=params.get("periods"), as_of=params.get("as_of"),
                      locations=locations, name=str(params.get("name") or ctx.runbook),
                      live=None if live is None else dict(live), min_live_days=int(params.get("min_live_days") or 0))
    needed = set(locations or [])
    for c in spec.criteria:
        if c.baseline is not None and c.baseline.locations:
            needed.update(c.baseline.locations)
    scope = sorted(needed) if locations is not None else None
    extra = repository.baseline_samples(store, dict(params.get("baseline_metrics") or {}), scope)
    obs = repository.load_observations(store, locations=scope, metrics=sorted({c.metric for c in spec.criteria}),
                                       extra=extra)
    verdict = evaluate(spec, obs)
    # Days the collectors recorded as missing: a criterion reading them is inconclusive, not a pass.
    verdict = completeness.apply_gaps(verdict, spec, collected.gaps(
        store, locations=scope, metrics=sorted({c.metric for c in spec.criteria}), end=verdict.as_of))
    wave = None if params.get("wave") is None else str(params["wave"])
    verdict_id = repository.save_verdict(store, verdict, runbook=ctx.runbook, run_id=ctx.run_id,
                                         step_key=ctx.step_key, wave=wave)
    summary = verdict.to_dict()
    specs = {c.id: c for c in spec.criteria}
    ctx.audit("gate.verdict", {"step": ctx.step_key, "gate": verdict.gate, "wave": wave,
                               "verdict": verdict.decision.value, "as_of": verdict.as_of.isoformat(),
                               "verdict_id": verdict_id, "reasons": list(verdict.reasons),
                               "criteria": {c.id: c.status.value for c in verdict.criteria}})
    ctx.artifacts.table(re.sub(r"[^a-z0-9-]+", "-", f"gate-{ctx.step_key}".lower()).strip("-")[:60], verdict.table(),
                        description=f"{verdict.gate}: {verdict.decision.value} as of {verdict.as_of}")
    window_end = _window_end(spec)
    # Go-lives given: a location in scope not live yet keeps the period open (its own has not begun).
    not_live = spec.live is not None and any(loc not in spec.live for loc in (spec.locations or ()))
    outputs = {
        "verdict": verdict.decision.value, "verdict_id": verdict_id, "as_of": verdict.as_of.isoformat(),
        # A gate deployed daily runs while its period is still open. Until the period closes only a
        # GO is final (it pauses the schedule); a NO-GO or INCONCLUSIVE then is provisional (the
        # adoption ramp, too few days yet): stored and on the board, but nothing to decide, so the
        # runbooks skip memo, register, decision and announcement. Rollback triggers still act daily.
        "window_end": window_end.isoformat() if window_end else None,
        "waiting_for_data": verdict.decision is not Decision.GO and (
            not_live or (window_end is not None and verdict.as_of < window_end)),
        "score": summary["score"], "reasons": list(verdict.reasons), "decide_role": params.get("decide_role"),
        "criteria": [_criterion_output(c, specs.get(c.id)) for c in verdict.criteria],
    }
    ctx.logger.info("gate %s: %s", verdict.gate, verdict.decision.value)
    if verdict.decision is Decision.NO_GO and params.get("fail_on_no_go", True):
        raise GateNoGo(f"{verdict.gate}: no-go — " + "; ".join(r for r in verdict.reasons if "critical" in r))
    return outputs


def _window_end(spec: Any) -> date | None:
    """The last day of the criteria's dated windows (the period under judgement; baselines and
    `last_days` windows excluded): before it, an inconclusive verdict may still become GO."""
    ends = [c.window.end for c in spec.criteria if c.window.end is not None]
    return max(ends) if ends else None


def _criterion_output(c: Any, spec: Any) -> dict[str, Any]:
    """A criterion's result with its measured values per location, for decision memos (no PHI: aggregates)."""
    op = getattr(spec, "op", None)
    return clean({
        "id": c.id, "title": c.title, "status": c.status.value, "critical": c.critical, "reason": c.reason,
        "failing": c.failing, "metric": c.metric, "test": c.test, "scope": c.scope, "window": c.window,
        "op": getattr(op, "value", op), "threshold": getattr(spec, "value", None),
        "aggregate": getattr(spec, "aggregate", None), "evidence": c.evidence,
        "results": [{"location": r.location, "status": r.status.value, "n": r.n, "value": r.value, "detail": r.detail,
                     "evidence": r.evidence} for r in c.results],
    })


# -- metrics ----------------------------------------------------------------------------------

def run_simulate(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    scenario = simulator.load_scenario(paths.data_file(params["scenario"]))
    locations = _id_list(params["locations"], "locations") if params.get("locations") else _org_locations(ctx)
    if not locations:
        raise UserInputError("metrics.simulate needs locations (or an organization)")
    _check_known(ctx, locations)
    if params.get("start"):
        scenario = replace(scenario, start=date.fromisoformat(str(params["start"])))
    starts_raw = params.get("starts") or {}
    if not isinstance(starts_raw, Mapping):
        raise UserInputError(f"step {ctx.step_key}: starts must map location ids to go-live days (YYYY-MM-DD)")
    try:
        starts = {str(k): date.fromisoformat(str(v)) for k, v in starts_raw.items()}
    except ValueError as exc:
        raise UserInputError(f"step {ctx.step_key}: starts: {exc}") from exc
    _check_known(ctx, list(starts))
    if params.get("until"):
        # Every location's data runs through `until` at least: a staggered wave's gate period ends
        # four weeks after its LAST go-live, past the scenario's days for the earliest location.
        try:
            until = date.fromisoformat(str(params["until"]))
        except ValueError as exc:
            raise UserInputError(f"step {ctx.step_key}: until: {exc}") from exc
        first = min(starts.get(loc, scenario.start) for loc in locations)
        scenario = replace(scenario, days=max(scenario.days, (until - first).days + 1))
    obs = simulator.simulate(scenario, locations, starts)
    source = str(params.get("source") or "simulator")
    rows = repository.save_samples(store, obs.samples(), source)
    ctx.audit("metrics.simulated", {"step": ctx.step_key, "scenario": scenario.name, "locations": locations,
                                    "rows": rows, "start": obs.start.isoformat(), "end": obs.end.isoformat()})
    return {"scenario": scenario.name, "locations": locations, "go_live": scenario.start.isoformat(),
            "start": obs.start.isoformat(), "end": obs.end.isoformat(), "rows": rows,
            "metrics": sorted(obs.metrics), "source": source}


def run_import(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    source = str(params.get("source") or Path(str(params["file"])).stem)
    report = importer.read_daily_csv(paths.data_file(str(params["file"])), source=source, known_locations=_org_locations(ctx),
                                     skip_bad_rows=bool(params.get("skip_bad_rows", False)))
    written = repository.save_samples(store, report.samples, source)
    ctx.audit("metrics.imported", {"step": ctx.step_key, "file": str(params["file"]), "source": source,
                                   "rows": report.rows, "imported": written, "bad_rows": report.bad_rows})
    return {"file": str(params["file"]), "source": source, "rows": report.rows, "imported": written,
            "bad_rows": report.bad_rows, "issues": [i.format() for i in report.issues[:50]],
            "metrics": sorted({s.metric for s in report.samples}),
            "locations": sorted({s.location for s in report.samples})}


# -- probe ------------------------------------------------------------------------------------

def run_probe(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    locations = _id_list(params["locations"], "locations") if params.get("locations") else [str(params["location"])]
    timeout_s = parse_duration(params.get("timeout", "5s"))
    connect_s = parse_duration(params.get("connect_timeout", "3s"))
    results = []
    for loc in locations:
        sample = probe(str(params["url"]), location=loc, timeout_s=timeout_s, connect_timeout_s=connect_s,
                       expect_status=tuple(params.get("expect_status") or ()))
        repository.save_probe(store, sample)
        midnight = datetime.combine(sample.checked_at.astimezone(UTC).date(), time(0), tzinfo=UTC)
        todays = repository.probe_samples(store, loc, since=midnight)
        daily = repository.daily_availability(todays)
        repository.save_samples(store, daily, "probe")
        results.append({"location": loc, "ok": sample.ok, "status_code": sample.status_code,
                        "latency_ms": sample.latency_ms, "error": sample.error,
                        "availability_today_pct": daily[0].value if daily else None})
    ctx.audit("probe.http", {"step": ctx.step_key, "target": safe_target(str(params["url"])), "ok": [r["location"] for r in results if r["ok"]],
                             "failed": [r["location"] for r in results if not r["ok"]]})
    return {"samples": results, "all_ok": all(r["ok"] for r in results)}


# -- rollback ---------------------------------------------------------------------------------

def run_triggers(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    locations = _id_list(params["locations"], "locations") if params.get("locations") else _org_locations(ctx)
    rules = triggers.TriggerRules(
        availability_below=float(params.get("availability_below", 95)),
        availability_max_days=int(params.get("availability_max_days", 2)),
        refusal_op=Op(str(params.get("refusal_op", ">"))),
        refusal_pct=float(params.get("refusal_pct", 50)),
        window_days=int(params.get("window_days", 14)),
    )
    as_of = date.fromisoformat(str(params["as_of"])) if params.get("as_of") else None
    obs = repository.load_observations(store, locations=locations, metrics=[
        rules.availability_metric, rules.clinical_metric, rules.refusal_metric, rules.data_loss_metric])
    since = date.fromisoformat(str(params["since"])) if params.get("since") else None
    hits = triggers.check(obs, rules, as_of=as_of, since=since)
    found = triggers.affected(hits)
    already = repository.open_rollbacks(store) if params.get("skip_open", True) else {}
    new = [a for a in found if a["location"] not in already]
    ctx.audit("rollback.triggers", {"step": ctx.step_key, "affected": [a["location"] for a in new],
                                    "already_open": sorted(set(a["location"] for a in found) & set(already))})
    if found:
        ctx.artifacts.table("rollback-triggers", [h.to_dict() for h in hits],
                            description=f"{len(found)} location(s) hit a rollback trigger")
    # The watch reads whatever data exists; say how old it is so a silent feed is noticed.
    data_through = obs.end.isoformat() if obs.metrics else None
    stale_days = (datetime.now(UTC).date() - obs.end).days if obs.metrics else None
    return {"affected": new, "locations": [a["location"] for a in new], "count": len(new),
            "as_of": (as_of or obs.end).isoformat(), "data_through": data_through, "stale_days": stale_days,
            "already_open": sorted(set(a["location"] for a in found) & set(already)),
            "hits": [h.to_dict() for h in hits]}


def _trigger_time(value: Any) -> datetime:
    if not value:
        return datetime.now(UTC)
    text = str(value)
    if len(text) == 10:  # a day: the trigger counts from the start of it
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    return deadline.parse_instant(text, "triggered_at")


def run_rollback_start(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    target = params["location"]
    location = str(target.get("location")) if isinstance(target, Mapping) else str(target)
    _check_known(ctx, [location])
    reason = str(params.get("reason") or (target.get("reason") if isinstance(target, Mapping) else "") or "manual")
    trig = list(params.get("triggers") or (target.get("triggers", []) if isinstance(target, Mapping) else []))
    # Deadlines count from when the trigger fired, i.e. was detected (now), unless given.
    at = _trigger_time(params.get("triggered_at"))
    rollback_id, created = repository.open_rollback(store, location=location, reason=reason, triggers=trig,
                                                    triggered_at=at, run_id=ctx.run_id)
    started: dict[str, Any] = {"mode": "none"}
    mode = str(params.get("launch", "auto"))
    # The open row is the intent; the launch carries the rollback's id as Prefect's idempotency key.
    # So a run killed between the row and the launch launches on resume (the row is found open, not
    # created), and any later launch for the same open rollback returns the same flow run.
    if created or launch.starts_runs(mode):
        started = launch.launch(str(params.get("runbook", "rollback")),
                                {"locations": [location], "reason": reason, "triggered_at": at.isoformat()},
                                mode=mode, idempotency_key=f"golive-rollback-{rollback_id}")
    ctx.audit("rollback.started" if created else "rollback.already_open",
              {"step": ctx.step_key, "location": location, "rollback_id": rollback_id, "reason": reason,
               "triggers": trig, "triggered_at": at.isoformat(), "launch": started})
    return {"rollback_id": rollback_id, "created": created, "location": location, "reason": reason,
            "triggered_at": at.isoformat(), "launch": started}


def run_rollout_set(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _need_store(ctx)
    locations = _id_list(params["locations"], "locations")
    _check_known(ctx, locations)
    status, workflow = str(params["status"]), str(params.get("workflow") or
                                                  ("previous" if params["status"] == "rolled_back" else "platform"))
    changed = []
    for loc in locations:
        before = repository.set_rollout(store, loc, status=status, workflow=workflow, reason=params.get("reason"),
                                        wave=None if params.get("wave") is None else str(params["wave"]))
        if status != "rolled_back" and params.get("close_rollback", True):
            repository.close_rollback(store, loc)
        changed.append({"location": loc, "before": before, "after": {"status": status, "workflow": workflow}})
    ctx.audit("rollout.set", {"step": ctx.step_key, "changed": changed})
    return {"changed": changed, "locations": locations, "status": status, "workflow": workflow}


def run_deadline(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    since = _trigger_time(params["since"])
    within = parse_duration(params["within"])
    now = deadline.parse_instant(params["now"], "now") if params.get("now") else None
    status = deadline.assess(since, within, now)
    out = {"phase": params.get("phase", ctx.step_id), **status.to_dict(), "escalated_to": []}
    if status.overdue:
        roles = list(params.get("escalate_to") or [])
        message = (f"{out['phase']} overdue: due {status.due_at.isoformat()} ({params['within']} after "
                   f"{since.isoformat()}), {out['late_by_s'] / 3600:.1f} h late")
        if params.get("subject"):
            message = f"{params['subject']}: {message}"
        ctx.audit("deadline.overdue", {"step": ctx.step_key, "to": roles, "message": message, **status.to_dict()})
        ctx.logger.warning("escalation to %s: %s", ", ".join(roles) or "nobody", message)
        out.update(escalated_to=roles, message=message)
        if params.get("on_overdue", "escalate") == "fail":
            raise DeadlineMissed(message)
    else:
        ctx.audit("deadline.met", {"step": ctx.step_key, **status.to_dict()})
    return out


KINDS: tuple[StepKind, ...] = (
    StepKind("gate", run_gate),
    StepKind("metrics.import_daily", run_import),
    StepKind("probe.http", run_probe),
    StepKind("metrics.simulate", run_simulate),
    StepKind("rollback.triggers", run_triggers),
    StepKind("rollback.start", run_rollback_start),
    StepKind("rollout.set", run_rollout_set),
    StepKind("deadline.check", run_deadline),
)
