"""Go-live pack per location (for its office manager) and the provider one-pager: the dates come
from the wave's start date and the wave runbook's own schedule (passed as `schedule:` offsets), the
contacts from the organization file (the location's and its region's people, central IT, the
vendor's support desk with its response-time SLA)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.reports import display


def _contacts(org: Any, location: str | None) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    loc = org.location(location) if location else None
    people = getattr(org, "people", ())

    def add(need: str, person: Any, role: str) -> None:
        how = person.phone or person.email or "via the rollout office"
        rows.append({"need": need, "who": f"{person.name} ({role})", "how": how})

    for p in people:
        if loc is not None and p.location == loc.id and "Office Manager" in p.roles:
            add("Questions about the day, staffing, patients' schedules", p, "Office Manager")
    for p in people:
        if loc is not None and p.region == loc.region and "Regional Manager" in p.roles:
            add("Escalation, go-live decisions", p, "Regional Manager")
    for p in people:
        if "Central IT" in p.roles:
            add("Workstations, network, PMS connection", p, "Central IT")
            break
    for p in people:
        if "Clinical Lead" in p.roles and (loc is None or p.region in (None, loc.region)):
            add("Clinical questions about AI findings", p, "Clinical Lead")
            break
    desk = org.vendor_contact("support_desk") if hasattr(org, "vendor_contact") else None
    if desk is not None:
        sla = getattr(getattr(org, "vendor", None), "support_sla", {}) or {}
        when = f" (first response: urgent {sla['urgent']})" if sla.get("urgent") else ""
        add("Platform down or wrong results" + when, desk, "Vendor support")
    return rows


def go_live_pack(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    context = params.get("context") or {}
    org = ctx.org
    location = str(ctx.item) if ctx.item is not None else str(context.get("location", ""))
    if org is None or not location:
        raise StepFailed("go-live pack: needs the organization and a location (run it for_each over the wave)")
    start = date.fromisoformat(str(context["start_date"]))
    schedule = context.get("schedule") or {}
    day = {k: start + timedelta(days=int(v)) for k, v in schedule.items()}
    go_live = day.get("go_live", start + timedelta(days=14))
    loc = org.location(location)
    rows = [{"what": "Champion training and certification (provider and office manager)", "by": display.day(day.get("champion_training", start))},
            {"what": "All staff trained; training log at 100%", "by": display.day(day.get("staff_training", start))},
            {"what": "Parallel run: cases planned in both workflows and compared", "by": display.day(day.get("parallel_run", start))},
            {"what": "Go-live: the platform becomes the treatment-planning workflow", "by": display.day(go_live)}]
    return {
        "title": f"Go-live pack: {loc.name}",
        "stem_suffix": location,
        "date": display.day(start),
        "question": f"What happens at {loc.name} around its go-live on {display.day(go_live)}, and whom do we call?",
        "doc": {"location": loc.name, "region": display.region_name(org, loc.region), "wave": context.get("wave", ""),
                "go_live": display.day(go_live), "schedule": rows, "contacts": _contacts(org, location),
                "go_live_minus_1": display.day(go_live - timedelta(days=1))},
    }


def provider_one_pager(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    context = params.get("context") or {}
    org = ctx.org
    if org is None:
        raise StepFailed("provider one-pager: needs the organization")
    start = date.fromisoformat(str(context["start_date"]))
    go_live = start + timedelta(days=int((context.get("schedule") or {}).get("go_live", 14)))
    return {
        "date": display.day(start),
        "question": "What does the AI platform change in my day, and how do I get help?",
        "doc": {"go_live": display.day(go_live), "contacts": _contacts(org, None),
                "threshold": f"{100 * float(getattr(getattr(org, 'standards', None), 'ai_confidence_threshold', 0.85)):.0f}%"},
    }
