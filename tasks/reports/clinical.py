"""CDO clinical pack: AI-analysis validation per location (the integration-validation runs' AI steps),
training completion, quality metrics over the measured period, and outlier locations (modified
z-scores, as the baseline report flags them, plus hard clinical flags), with the register's
clinical items. Everything from the store; the period is the stored data's."""

from __future__ import annotations

from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.planning.metrics import robust_outliers
from golive.tasks.register.register import entries
from golive.tasks.reports import display, sources

AI_STEPS = ("cbct-ai-analysis", "cbct-case-types")
QUALITY = ("case_acceptance_pct", "adoption_pct", "providers_refusing_pct")  # compared across locations
CLINICAL_OWNERS = ("CDO", "Clinical Lead")


def pct(v: float | None) -> str:
    return "no data" if v is None else f"{v:.1f}%"


def locations_of(ctx: Any, context: dict[str, Any]) -> list[str]:
    org = ctx.org
    if org is None:
        raise StepFailed("audience pack: needs the organization")
    given = [str(x) for x in context.get("locations") or []]
    for loc in given:
        org.location(loc)  # an unknown id is the user's mistake, with a did-you-mean
    return given or [loc.id for loc in org.locations]


def period_of(ctx: Any, context: dict[str, Any], locations: list[str]) -> sources.Period | None:
    from datetime import date

    end = date.fromisoformat(str(context["as_of"])) if context.get("as_of") else None
    return sources.measured_period(ctx.store, locations, end=end)


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None:
        raise StepFailed("CDO clinical pack: needs the store (metrics, validation runs, register)")
    context = params.get("context") or {}
    org = ctx.org
    locs = locations_of(ctx, context)
    period = period_of(ctx, context, locs)
    metrics = sources.metric_summary(ctx.store, locs, period) if period else {loc: {} for loc in locs}
    validations = sources.latest_validations(ctx.store, locs)
    name = {loc: display.location_name(org, loc) for loc in locs}

    rows, flagged = [], {}
    for loc in sorted(locs, key=name.__getitem__):
        m = metrics[loc]
        run = validations.get(loc)
        ai, failing = run.group(AI_STEPS) if run else ("not run", [])
        why = [f"AI analysis {ai}" + (f" ({', '.join(failing)})" if failing else "")] if ai != "passed" else []
        if (m.get("critical_clinical_errors") or 0) > 0:
            why.append(f"{m['critical_clinical_errors']:.0f} critical clinical error(s)")
        completion = m.get("training_completion_pct")
        if completion is not None and completion < 100:
            why.append(f"training {pct(completion)} complete")
        flagged[loc] = why
        rows.append({"location": name[loc], "ai": ai, "training": pct(m.get("training_completion_pct")),
                     "hours": display.value("training_hours", m.get("training_hours")),
                     "acceptance": pct(m.get("case_acceptance_pct")), "adoption": pct(m.get("adoption_pct")),
                     "errors": display.value("critical_clinical_errors", m.get("critical_clinical_errors"))})
    outliers = []
    for metric in QUALITY:
        values = {loc: float(x) for loc in locs if (x := metrics[loc].get(metric)) is not None}
        for loc, z in sorted(robust_outliers(values).items(), key=lambda kv: kv[1]):
            outliers.append({"location": name[loc], "metric": display.metric_name(metric),
                             "value": display.value(metric, values[loc]), "z": f"{z:+.1f}",
                             "median": display.value(metric, _median(values))})
            flagged[loc].append(f"{display.metric_name(metric)} outlier")
    validated = sum(r["ai"] == "passed" for r in rows)
    trained = sum((metrics[loc].get("training_completion_pct") or 0) >= 100 for loc in locs)
    attention = [name[loc] for loc in sorted(locs, key=name.__getitem__) if flagged[loc]]
    status = "RED" if any((metrics[loc].get("critical_clinical_errors") or 0) > 0 for loc in locs) else (
        "AMBER" if attention else "GREEN")
    answer = (f"Clinical status: {status}. AI analysis validated at {validated} of {len(locs)} location(s); "
              f"training complete at {trained} of {len(locs)}; {len(attention)} location(s) need clinical attention.")
    register = [{"title": e["title"], "where": name.get(e["location"], "programme"), "owner": e["owner"],
                 "due": display.day(e["due"]) or "no date"}
                for e in entries(ctx.store)
                if (e["location"] in locs or not e["location"]) and any(o in e["owner"] for o in CLINICAL_OWNERS)]
    return {
        "date": display.day(period.end) if period else "",
        "question": "Is the AI analysis clinically validated where it is used, are staff trained, "
                    "and which locations need clinical attention?",
        "doc": {"answer": answer, "status": status, "rows": rows, "outliers": outliers,
                "attention": [{"location": name[loc], "why": "; ".join(flagged[loc])}
                              for loc in sorted(locs, key=name.__getitem__) if flagged[loc]],
                "period": f"{display.day(period.start)} to {display.day(period.end)}" if period else "no measurements",
                "register": register[:15], "register_more": max(0, len(register) - 15),
                "validated": validated, "total": len(locs)},
    }


def _median(values: dict[str, float]) -> float:
    import statistics

    return float(statistics.median(values.values()))
