"""Planning step kinds: thin wrappers over the plain-Python planning modules.

- `planning.readiness`: scores, tiers and the scoring matrix (a table artifact).
- `planning.waves`: the wave plan with the pilot rules and any alternatives.
- `planning.calendar`: the go-live calendar (table artifact) and an .ics file under out/.
- `planning.tech_check`: the automated pre-implementation technical checks per location.
- `planning.baseline_import`: baseline CSVs into the store (idempotent).
- `planning.baseline`: baseline completeness and suspicious values against the deadline.

Each kind works from `ctx.org` (the loaded Organization) and recomputes what it needs; scoring
500 locations takes milliseconds, so kinds stay independent and outputs stay small.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.kind import StepKind
from golive.tasks.planning import calendar as cal
from golive.tasks.planning import metrics, readiness, tech_check, waves
from golive.tasks.planning.organization import Organization
from golive.tasks.reports import charts


def _org(ctx: StepContext) -> Organization:
    if not isinstance(ctx.org, Organization):
        raise StepFailed(f"{ctx.step_key} needs the organization file (--org or GOLIVE_ORG)")
    return ctx.org


def _date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StepFailed(f"{field}: not a date (YYYY-MM-DD): {value!r}") from None


def _today(ctx: StepContext) -> date:
    return ctx.today()  # the run's day on the program's timeline


def _pilot_rules(params: dict[str, Any]) -> waves.PilotRules:
    p = params.get("pilot") or {}
    return waves.PilotRules(
        min_size=int(p.get("min_size", 2)),
        max_size=int(p.get("max_size", 3)),
        champion_ready=int(p.get("champion_ready", 4)),
        high_implant=float(p.get("high_implant", 0.20)),
        high_ortho=float(p.get("high_ortho", 0.15)),
    )


def _scores(ctx: StepContext, params: dict[str, Any]) -> tuple[readiness.LocationScore, ...]:
    try:
        return readiness.score_organization(_org(ctx), params.get("locations"))
    except UserInputError as exc:
        raise StepFailed(str(exc)) from None


# -- planning.readiness -----------------------------------------------------------------------


def run_readiness(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    scores = _scores(ctx, params)
    matrix = readiness.matrix_rows(scores)
    ctx.artifacts.table("readiness-matrix", matrix, description="Location readiness scoring matrix (playbook section 3)")
    tiers: dict[str, int] = {}
    for s in scores:
        key = str(int(s.tier)) if s.tier is not None else "unscored"
        tiers[key] = tiers.get(key, 0) + 1
    details = {
        s.location_id: {
            f.factor.value: {"score": f.score, "criterion": f.criterion, "explain": f.explain(),
                             "overridden": f.overridden}
            for f in s.factors.values()
        }
        for s in scores
    }
    ctx.logger.info("scored %d locations: %s", len(scores), tiers)
    chart = _score_chart(ctx, matrix)
    return {
        "chart": chart.name,
        "matrix": matrix,
        "tiers": tiers,
        "unscored": [s.location_id for s in scores if s.composite is None],
        "incomplete": [s.location_id for s in scores if not s.complete],
        "conflict_rule": readiness.CONFLICT_RULE,
        "details": details,
    }


_TIER_COLORS = {1: "#2E7D32", 2: "#66BB6A", 3: "#FBC02D", 4: "#EF6C00", 5: "#C62828"}


def _score_chart(ctx: StepContext, matrix: list[dict[str, Any]]) -> Path:
    """Composite scores by location, coloured by tier, beside the run's reports (for the brief)."""
    scored = [row for row in matrix if row.get("total") is not None]
    return charts.horizontal_bars(
        ctx.out_dir / ctx.run_key / "readiness-scores.png",
        [str(row["location"]) for row in scored], [float(row["total"]) for row in scored],
        title="Composite readiness score (5-25) by location", xlabel="composite score", xmax=25,
        colors=[_TIER_COLORS.get(int(row["tier"]), "#999999") for row in scored],
        marks=[(21, "Tier 1"), (16, "Tier 2"), (11, "Tier 3"), (6, "Tier 4")],
    )


# -- planning.waves ---------------------------------------------------------------------------


def _plan(ctx: StepContext, params: dict[str, Any]) -> tuple[waves.WavePlan, tuple[readiness.LocationScore, ...]]:
    scores = _scores(ctx, params)
    return waves.plan_waves(_org(ctx), scores, _pilot_rules(params)), scores


def run_waves(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    org = _org(ctx)
    plan, scores = _plan(ctx, params)
    names = {loc.id: loc.name for loc in org.locations}
    rows = plan.rows(scores)
    # Failed technical checks are prerequisites (playbook: flag bandwidth upgrades before rollout).
    prereq = {r.location_id: "; ".join(f"{c.id}: {c.detail}" for c in r.failures)
              for r in tech_check.check_locations(org) if not r.passed}
    for row in rows:
        if row["wave"] is not None and row["id"] in prereq:
            row["notes"] = "prerequisite: " + str(prereq[row["id"]])
    ctx.artifacts.table("wave-plan", rows, description="Wave plan: pilot, expansion, scale, deferred")
    p = plan.pilot
    if not p.locations:
        ctx.logger.warning("no pilot possible: %s", "; ".join(p.proposals))
    return {
        "pilot": list(p.locations),
        "pilot_names": [names[i] for i in p.locations],
        "pilot_rules": waves.pilot_rows(plan),
        "all_rules_met": p.all_rules_met,
        "relaxed": list(p.relaxed),
        "excluded": [{"id": e.location_id, "location": names[e.location_id], "reasons": list(e.reasons)}
                     for e in p.excluded],
        "proposals": list(p.proposals),
        "explanation": waves.explain_pilot(plan, names),
        "waves": {str(n): list(ids) for n, ids in plan.waves.items()},
        "deferred": [{"id": d.location_id, "location": names[d.location_id], "tier": d.tier, "fix": list(d.fix)}
                     for d in plan.deferred],
        "rows": rows,
    }


# -- planning.calendar ------------------------------------------------------------------------


def _waves_param(value: Any, org: Organization) -> waves.WavePlan:
    if not isinstance(value, dict):
        raise StepFailed("waves: expected the `waves` output of a planning.waves step")
    known = {loc.id for loc in org.locations}
    plan_waves: dict[int, tuple[str, ...]] = {}
    for k, ids in value.items():
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise StepFailed(f"waves: unknown location(s) {', '.join(unknown)}")
        plan_waves[int(k)] = tuple(ids)
    return waves.WavePlan(pilot=waves.Pilot(plan_waves.get(1, ()), ()), waves=plan_waves)


def run_calendar(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    org = _org(ctx)
    plan = _waves_param(params["waves"], org) if params.get("waves") else _plan(ctx, params)[0]
    start = _date(params["start"], "start") if params.get("start") else _next_monday(_today(ctx))
    # the organization's holidays, and any a run adds
    holidays = sorted(org.holiday_days | {_date(h, "holidays") for h in params.get("holidays") or []})
    r = params.get("rules") or {}
    try:
        rules = cal.CalendarRules(**{k: int(v) for k, v in r.items()})
        calendar = cal.build_calendar(org, plan, start, holidays, rules)
    except (UserInputError, TypeError) as exc:
        raise StepFailed(str(exc)) from None
    rows = calendar.rows()
    ctx.artifacts.table("go-live-calendar", rows, description="Go-live calendar")
    hh, mm = (int(x) for x in str(params.get("standup_time", "09:00")).split(":"))
    target = ctx.out_dir / ctx.run_key
    target.mkdir(parents=True, exist_ok=True)
    ics_path = target / params.get("ics", "rollout-calendar.ics")
    tmp = ics_path.with_suffix(".ics.part")
    tmp.write_bytes(cal.to_ics(calendar, org.name, stamp=datetime.now(UTC), standup_at=time(hh, mm)))
    tmp.replace(ics_path)
    ctx.artifacts.link("rollout-calendar", Path(ics_path).resolve().as_uri(), description="Rollout calendar (.ics)")
    return {
        "start": calendar.start.isoformat(),
        "end": calendar.end.isoformat(),
        "weeks": calendar.weeks,
        "phases": calendar.phase_rows(),
        "plan_phases": calendar.plan_phases(),
        "go_lives": rows,
        "check_ins": [
            {"id": c.location_id, "location": c.name, "date": c.day.isoformat(), "day": c.day_number, "cadence": c.cadence}
            for c in calendar.check_ins
        ],
        "notes": list(calendar.notes),
        "ics": str(ics_path),
        "baseline_deadline": cal.week_end(calendar.start, 1).isoformat(),
    }


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


# -- planning.tech_check ----------------------------------------------------------------------


def run_tech_check(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    org = _org(ctx)
    try:
        results = tech_check.check_locations(org, params.get("locations"))
    except UserInputError as exc:
        raise StepFailed(str(exc)) from None
    rows = tech_check.check_rows(results)
    org_checks = [{"id": c.id, "check": c.title, "status": c.status.value, "detail": c.detail}
                  for c in tech_check.check_organization(org)]
    ctx.artifacts.table("technical-checks", rows, description="Automated technical checks per location")
    failed = [r.location_id for r in results if not r.passed]
    outputs = {
        "rows": rows,
        "organization": org_checks,
        "passed": [r.location_id for r in results if r.passed],
        "failed": failed,
        "all_passed": not failed and all(c["status"] in ("pass", "warn") for c in org_checks),
    }
    if failed and params.get("fail_on_failures", False):
        lines = [f"{r.location_id}: " + "; ".join(f"{c.id} {c.detail}" for c in r.failures) for r in results if not r.passed]
        raise StepFailed(f"{len(failed)} location(s) fail technical checks:\n" + "\n".join(lines))
    return outputs


# -- planning.baseline_import / planning.baseline ----------------------------------------------


def _store(ctx: StepContext) -> Any:
    if ctx.store is None:
        raise StepFailed(f"{ctx.step_key} needs the store")
    return ctx.store


def run_baseline_import(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    org = ctx.org if isinstance(ctx.org, Organization) else None
    results = []
    for f in params["files"]:
        try:
            r = metrics.import_metrics_csv(store, paths.data_file(f), params.get("source"), bool(params.get("skip_bad_rows", False)), org=org)
        except UserInputError as exc:
            raise StepFailed(f"baseline import failed, nothing imported from {f}:\n{exc}") from None
        results.append({"file": str(f), "rows": r.rows, "inserted": r.inserted, "updated": r.updated,
                        "unchanged": r.unchanged, "blank": r.blank, "skipped": r.skipped,
                        "issues": [i.format() for i in r.issues]})
        ctx.logger.info("%s", r.summary())
    ctx.audit("baseline.import", {"step": ctx.step_key, "files": [r["file"] for r in results],
                                  "inserted": sum(r["inserted"] for r in results),
                                  "updated": sum(r["updated"] for r in results)})
    return {"files": results, "inserted": sum(r["inserted"] for r in results),
            "updated": sum(r["updated"] for r in results)}


def run_baseline(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    org = _org(ctx)
    if params.get("deadline"):
        deadline = _date(params["deadline"], "deadline")
    elif params.get("start"):
        deadline = cal.week_end(_date(params["start"], "start"), 1)  # playbook: end of week 1
    else:
        raise StepFailed("planning.baseline needs `deadline` or the rollout `start` date")
    as_of = _date(params["as_of"], "as_of") if params.get("as_of") else _today(ctx)
    try:
        report = metrics.baseline_report(_store(ctx), org, deadline, as_of, params.get("metrics"))
    except UserInputError as exc:
        raise StepFailed(str(exc)) from None
    rows = report.rows()
    ctx.artifacts.table("baseline-completeness", rows, description=f"Baseline completeness (deadline {deadline})")
    overdue = [c.location_id for c in report.locations if c.status == "overdue"]
    outputs = {
        "deadline": deadline.isoformat(),
        "as_of": as_of.isoformat(),
        "complete": report.complete,
        "locations": len(report.locations),
        "rows": rows,
        "flags": report.flag_rows(),
        "overdue": overdue,
        "pending": [c.location_id for c in report.locations if c.status == "pending"],
        "metrics": metrics.catalog_rows(),
    }
    if overdue and params.get("fail_on_overdue", False):
        raise StepFailed(f"baseline overdue at {len(overdue)} location(s): {', '.join(overdue)}")
    return outputs


READINESS = StepKind("planning.readiness", run_readiness)
WAVES = StepKind("planning.waves", run_waves)
CALENDAR = StepKind("planning.calendar", run_calendar)
TECH_CHECK = StepKind("planning.tech_check", run_tech_check)
BASELINE_IMPORT = StepKind("planning.baseline_import", run_baseline_import)
BASELINE = StepKind("planning.baseline", run_baseline)

KINDS: tuple[StepKind, ...] = (READINESS, WAVES, CALENDAR, TECH_CHECK, BASELINE_IMPORT, BASELINE)
