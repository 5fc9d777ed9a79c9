"""ROI and value data: baseline against current per location and for the wave, from a gate step's
statistics, priced with the organization's investment. Also feeds the one-page board brief.

The value model is stated in the report, not hidden: a location's treatment revenue scales with its
case acceptance, so an uplift of e points on a baseline of b% is worth monthly_revenue x e / b a
month. Only a statistically significant uplift (the interval above zero) is counted as value;
otherwise the report says "no measurable change yet" and counts nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.reports import display
from golive.tasks.reports.memo import _period, _signed


def _outputs(scope: dict[str, Any], step_id: str) -> dict[str, Any]:
    step = (scope.get("steps") or {}).get(step_id)
    out = getattr(step, "outputs", None) if step is not None and not isinstance(step, dict) else (step or {}).get("outputs")
    if not out or "criteria" not in out:
        raise StepFailed(f"ROI report: step {step_id!r} produced no measurements")
    return dict(out)


def _by_location(criteria: dict[str, Any], cid: str) -> dict[str, dict[str, Any]]:
    c = criteria.get(cid) or {}
    return {r["location"]: r for r in c.get("results", [])}


def money(v: float | None, currency: str) -> str:
    if v is None:
        return "n/a"
    sign = "−" if v < 0 else ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    return f"{sign}{symbol}{abs(v):,.0f}"


CHART_MAX = 20  # bars in the change chart: the weakest locations when there are more


def _chart(folder: Path, labels: list[str], effects: list[float]) -> str:
    """Case-acceptance change per location (points), weakest first; the PNG's file name."""
    from golive.tasks.reports.charts import horizontal_bars  # matplotlib only when a chart is drawn

    pairs = sorted(zip(effects, labels, strict=True))[:CHART_MAX]
    shown = len(pairs)
    title = "Case acceptance change against baseline, points" + (
        f" (the {shown} lowest of {len(labels)})" if shown < len(labels) else "")
    colours = ["#C0504D" if e < 0 else "#4C72B0" for e, _ in pairs]
    horizontal_bars(folder / "roi-acceptance-change.png", [n for _, n in pairs], [e for e, _ in pairs],
                    title=title, xlabel="percentage points", colors=colours, marks=[(0.0, "baseline")])
    return "roi-acceptance-change.png"


def _trends(folder: Path, store: Any, locations: list[str], baseline_first: str | None, last: str | None,
            first: str | None) -> str:
    """Weekly case acceptance and adoption (means over the wave's locations) from the baseline to now,
    with the go-live marked: the measured trend behind the report's single numbers."""
    from datetime import date

    from golive.tasks.reports import sources
    from golive.tasks.reports.charts import lines

    if not (baseline_first and last and locations):
        return ""
    start, end = date.fromisoformat(baseline_first), date.fromisoformat(last)
    series = []
    for metric, label in (("case_acceptance_pct", "Case acceptance"), ("adoption_pct", "Provider adoption")):
        points = sources.weekly_means(store, locations, metric, start, end)
        if points:
            series.append((label, [d for d, _ in points], [v for _, v in points]))
    if not series:
        return ""
    lines(folder / "roi-trend.png", series, title="Weekly means over the wave's locations", ylabel="percent",
          marks=[(date.fromisoformat(first), "go-live")] if first else [])
    return "roi-trend.png"


def _payback_chart(folder: Path, one_off: float, licences: float, monthly_value: float, months_measured: float,
                   planned: float | None, currency: str) -> str:
    """Cumulative cost against cumulative value by month at the measured monthly value (a projection,
    drawn dashed past the months measured), with the planned payback marked."""
    from golive.tasks.reports.charts import lines

    horizon = int(max(12, (planned or 0) * 1.5, months_measured + 1))
    xs = list(range(horizon + 1))
    cost = [one_off + licences * m for m in xs]
    value = [monthly_value * m for m in xs]
    lines(folder / "roi-payback.png", [("Cumulative cost", xs, cost), ("Cumulative value (projected)", xs, value)],
          title="Cost against value by month since go-live (value at the measured rate)", ylabel=currency,
          marks=[(planned, "planned payback")] if planned else [], dashed=["Cumulative value (projected)"],
          xlabel="months since go-live", thousands=True)
    return "roi-payback.png"


def assemble(scope: dict[str, Any], params: dict[str, Any], org: Any, chart_dir: Path | None = None,
             store: Any = None) -> dict[str, Any]:
    context = params.get("context") or {}
    inv = getattr(org, "investment", None)
    if inv is None:
        raise StepFailed("ROI report: the organization file has no `investment:` block (licences, hardware, "
                         "training hours); add it to price the rollout")
    out = _outputs(scope, context.get("measure", "measure"))
    criteria = {c["id"]: c for c in out["criteria"]}
    missing = [c for c in ("baseline-acceptance", "current-acceptance", "acceptance-change") if c not in criteria]
    if missing:
        raise StepFailed(f"ROI report: step {context.get('measure', 'measure')!r} has no criterion "
                         f"{', '.join(missing)} (use the measure step of runbooks/roi-report.yaml)")
    cur = inv.currency
    base = _by_location(criteria, "baseline-acceptance")
    now = _by_location(criteria, "current-acceptance")
    change = _by_location(criteria, "acceptance-change")
    adoption = _by_location(criteria, "adoption")
    uptime = _by_location(criteria, "uptime")
    hours = _by_location(criteria, "training-hours")
    locations = sorted(set(base) | set(now) | set(change), key=lambda x: display.location_name(org, x))
    first, last = _period((criteria.get("current-acceptance") or {}).get("window", ""))
    months = max((display.days_between(first, last) or 30) / 30.4, 0.25)
    rows: list[dict[str, str]] = []
    monthly_value = 0.0
    outliers: list[str] = []
    for loc in locations:
        b = (base.get(loc) or {}).get("value")
        c = (now.get(loc) or {}).get("value")
        ev = (change.get(loc) or {}).get("evidence") or {}
        eff, lo, hi = ev.get("effect"), ev.get("ci_low"), ev.get("ci_high")
        revenue = next((x.monthly_revenue for x in getattr(org, "locations", ()) if x.id == loc), None)
        value = 0.0
        if eff is not None and lo is not None and lo > 0 and b and revenue:
            value = float(revenue) * float(eff) / float(b)
        monthly_value += value
        if hi is not None and hi < 0:
            outliers.append(display.location_name(org, loc))
        rows.append({
            "location": display.location_name(org, loc),
            "baseline": display.value("case_acceptance_pct", b), "current": display.value("case_acceptance_pct", c),
            "change": (f"{_signed(eff)} pts ({_signed(lo)} to {_signed(hi)})" if eff is not None and lo is not None and hi is not None
                       else "not enough data"),
            "adoption": display.value("adoption_pct", (adoption.get(loc) or {}).get("value")),
            "uptime": display.value("uptime_pct", (uptime.get(loc) or {}).get("value")),
            "value": money(value, cur) + "/month" if value else "no measurable change yet",
        })
    measured = [(display.location_name(org, loc), float(((change.get(loc) or {}).get("evidence") or {})["effect"]))
                for loc in locations if ((change.get(loc) or {}).get("evidence") or {}).get("effect") is not None]
    chart = _chart(chart_dir, [n for n, _ in measured], [e for _, e in measured]) if chart_dir and measured else ""
    wave_ev = ((criteria.get("acceptance-change-wave") or {}).get("results") or [{}])[0].get("evidence") or {}
    n = len(locations)
    trained_hours = sum(float((hours.get(loc) or {}).get("value") or 0) for loc in locations)
    one_off = float(inv.hardware) + float(inv.implementation) + float(inv.training_hours) * float(inv.training_hour_cost)
    licences = float(inv.licence_per_location_month) * n
    net_monthly = monthly_value - licences
    payback = one_off / net_monthly if net_monthly > 0 else None
    cost_to_date = one_off + licences * months
    value_to_date = monthly_value * months
    roi_to_date = (value_to_date - cost_to_date) / cost_to_date if cost_to_date else None
    planned = inv.planned_payback_months
    if payback is None:
        roi_line = (f"No payback yet: measured value {money(monthly_value, cur)} a month does not cover the "
                    f"licences ({money(licences, cur)} a month) over {display.day(first)} to {display.day(last)}.")
        rag = "red"
    else:
        vs = ""
        if planned:
            vs = (f", {'ahead of' if payback <= planned else 'behind'} the planned {planned:g} months")
        roi_line = (f"Payback in {payback:.1f} months{vs}: measured value {money(monthly_value, cur)} a month "
                    f"against {money(licences, cur)} of licences and {money(one_off, cur)} invested once.")
        rag = "green" if not planned or payback <= planned else ("amber" if payback <= 1.5 * planned else "red")
    wave_change = (f"{_signed(wave_ev['effect'])} pts ({round(100 * wave_ev.get('ci_level', 0.9))}% CI "
                   f"{_signed(wave_ev['ci_low'])} to {_signed(wave_ev['ci_high'])})" if "effect" in wave_ev else "not enough data")
    investment_rows = [
        {"item": "Platform licences", "amount": f"{money(licences, cur)} a month ({n} locations × "
                                                f"{money(float(inv.licence_per_location_month), cur)})"},
        {"item": "Hardware (one-off)", "amount": money(float(inv.hardware), cur)},
        {"item": "Implementation services (one-off)", "amount": money(float(inv.implementation), cur)},
        {"item": "Training", "amount": f"{inv.training_hours:g} hours planned × {money(float(inv.training_hour_cost), cur)}"
                                      f" = {money(float(inv.training_hours) * float(inv.training_hour_cost), cur)}; "
                                      f"{trained_hours:.0f} hours recorded at these locations"},
    ]
    wave = context.get("wave_label", "the live locations")
    baseline_first = _period((criteria.get("baseline-acceptance") or {}).get("window", ""))[0]
    trend = _trends(chart_dir, store, locations, baseline_first, last, first) if chart_dir and store is not None else ""
    payback_chart = (_payback_chart(chart_dir, one_off, licences, monthly_value, months, planned, cur)
                     if chart_dir else "")
    return {
        "date": display.day(out.get("as_of")),
        "question": context.get("question") or f"What has the rollout returned so far at {wave}?",
        "doc": {
            "roi_line": roi_line, "rag": rag, "chart": chart, "trend": trend, "payback_chart": payback_chart, "rows": rows, "wave": wave, "wave_change": wave_change,
            "period": f"{display.day(first)} to {display.day(last)}",
            "baseline_period": " to ".join(display.day(d) for d in _period(
                (criteria.get("baseline-acceptance") or {}).get("window", "")) if d),
            "monthly_value": money(monthly_value, cur), "licences": money(licences, cur), "one_off": money(one_off, cur),
            "payback": f"{payback:.1f} months" if payback is not None else "not reached",
            "planned_payback": f"{planned:g} months" if planned else "not set",
            "roi_to_date": f"{100 * roi_to_date:.0f}%" if roi_to_date is not None else "n/a",
            "value_to_date": money(value_to_date, cur), "cost_to_date": money(cost_to_date, cur),
            "months": f"{months:.1f}", "investment": investment_rows, "outliers": outliers,
            "locations": n, "rationale": context.get("rationale", ""),
            "risks": list(context.get("risks") or [])[:3],
            "timeline": [
                {"milestone": f"Go-live of {wave}", "date": display.day(first), "status": "GREEN (live)"},
                {"milestone": "Value measured against baseline", "date": f"{display.day(first)} to {display.day(last)}",
                 "status": rag.upper()},
                {"milestone": str(context.get("next_wave_label") or "Next wave"),
                 "date": display.day(context.get("next_wave_start")) or "not scheduled",
                 "status": "GREEN (on plan)" if context.get("next_wave_start") else "AMBER (no date)"},
            ],
        },
    }
