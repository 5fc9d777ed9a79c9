"""Regional cascade pack, one per region (for its regional manager, to cascade to office managers):
each location's stage and go-live day from the stored plan (program lifecycle), its adoption and
uptime over the measured period, the register's items in the region, the coming go-lives, and
whom each office calls."""

from __future__ import annotations

from datetime import date
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.program.repository import go_live_days
from golive.tasks.program.repository import locations as program_locations
from golive.tasks.register.register import entries
from golive.tasks.reports import display, sources

STAGES = {"assessed": "assessed", "scheduled": "scheduled", "configuring": "configuring", "training": "training",
          "parallel_run": "parallel run", "live": "live", "stabilised": "stabilised", "deferred": "deferred",
          "paused": "paused", "rolled_back": "rolled back"}


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None or ctx.org is None:
        raise StepFailed("regional cascade pack: needs the store and the organization")
    context = params.get("context") or {}
    org = ctx.org
    region = str(ctx.item) if ctx.item is not None else str(context.get("region", ""))
    if not region:
        raise StepFailed("regional cascade pack: needs a region (run it for_each over the organization's regions)")
    org.region(region)  # an unknown id is the user's mistake
    locs = [loc.id for loc in org.locations_in(region)]
    plan = program_locations(ctx.store)
    went_live = {loc: on for loc, on, _wave in go_live_days(ctx.store)}  # the day each location went live
    calendar = sources.planned_go_lives(ctx.store)  # the readiness calendar's dates, for those not live yet
    planned = {loc: went_live.get(loc) or (w.go_live_on if w else None) or calendar.get(loc)
               for loc in {*plan, *calendar} for w in [plan.get(loc)]}
    # One "as of" for every region: the last day measured anywhere in the group (or the given day).
    period = sources.measured_period(ctx.store, [x.id for x in org.locations], end=date.fromisoformat(
        str(context["as_of"])) if context.get("as_of") else None)
    as_of = period.end if period else max((d for d in planned.values() if d), default=ctx.today())
    metrics = sources.metric_summary(ctx.store, locs, period) if period and locs else {}
    items = [e for e in entries(ctx.store) if e["location"] in locs]
    name = {loc: display.location_name(org, loc) for loc in locs}
    rows = []
    for loc in sorted(locs, key=lambda x: (planned.get(x) or date.max, name[x])):
        w = plan.get(loc)
        mine = [e for e in items if e["location"] == loc]
        m = metrics.get(loc, {})
        rag = "RED" if any(e["severity"] == "high" for e in mine) else ("AMBER" if mine else "GREEN")
        rows.append({"location": name[loc], "stage": STAGES.get(w.state.value, w.state.value) if w else "not planned",
                     "wave": str(w.wave) if w and w.wave else "—",
                     "go_live": display.day(planned[loc]) if planned.get(loc) else "not scheduled",
                     "adoption": display.value("adoption_pct", m.get("adoption_pct")) if m else "no data",
                     "uptime": display.value("uptime_pct", m.get("uptime_pct")) if m else "no data",
                     "rag": rag, "open": str(len(mine))})
    live = sum(r["stage"] in ("live", "stabilised") for r in rows)
    coming = sorted((d, loc) for loc in locs if (d := planned.get(loc)) and d > as_of)
    reds = sum(r["rag"] == "RED" for r in rows)
    region_name = display.region_name(org, region)
    nxt = f"next go-live: {name[coming[0][1]]} on {display.day(coming[0][0])}" if coming else "no go-live scheduled"
    answer = (f"{region_name}: {live} of {len(rows)} location(s) live, {reds} red, {len(items)} open item(s); {nxt}.")
    people = getattr(org, "people", ())
    contacts = [{"who": f"{p.name} ({', '.join(p.roles)})", "where": name.get(p.location or "", region_name),
                 "how": p.phone or p.email or "via the rollout office"}
                for p in people if (p.region == region and "Regional Manager" in p.roles)
                or (p.location in locs and "Office Manager" in p.roles)]
    return {
        "title": f"Regional cascade pack: {region_name}",
        "stem_suffix": region,
        "date": display.day(as_of),
        "question": f"Where does each location in {region_name} stand, what comes next, and what do I pass on?",
        "doc": {"answer": answer, "region": region_name, "rows": rows, "as_of": display.day(as_of),
                "coming": [{"location": name[loc], "day": display.day(d)} for d, loc in coming[:10]],
                "open_items": [{"title": e["title"], "where": name[e["location"]], "owner": e["owner"],
                           "due": display.day(e["due"]) or "no date"} for e in items[:20]],
                "open_more": max(0, len(items) - 20), "contacts": contacts,
                "period": f"{display.day(period.start)} to {display.day(period.end)}" if period else "no measurements"},
    }
