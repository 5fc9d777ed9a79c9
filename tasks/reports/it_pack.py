"""VP of IT pack: integration validation per location (PMS battery, DICOM, intraoral) from the latest
integration-validation run of each location, the remediation of technical-check failures (the
organization file's hardware, network and PMS facts judged by tasks/planning/tech_check, each with
its register owner and due date), and the security and compliance status (tasks/compliance)."""

from __future__ import annotations

from datetime import date
from typing import Any

from golive.tasks.compliance.status import compliance_status
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.planning.tech_check import check_locations
from golive.tasks.register.register import entries
from golive.tasks.reports import display, sources
from golive.tasks.reports.clinical import locations_of, period_of

GROUPS = {  # integration-validation step ids by the part they prove
    "pms": ("pms-",),
    "dicom": ("cbct-endpoint", "cbct-send", "dicom-transport", "cbct-arrival"),
    "intraoral": ("ios-",),
}
REMEDIATION_ROWS = 40  # the rest are counted; the register holds them all


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None:
        raise StepFailed("VP of IT pack: needs the store (validation runs, register, compliance evidence)")
    context = params.get("context") or {}
    org = ctx.org
    locs = locations_of(ctx, context)
    period = period_of(ctx, context, locs)
    as_of = date.fromisoformat(str(context["as_of"])) if context.get("as_of") else (
        period.end if period else ctx.today())
    name = {loc: display.location_name(org, loc) for loc in locs}
    validations = sources.latest_validations(ctx.store, locs)
    checks = {c.location_id: c for c in check_locations(org, locs)}
    register = {(e["subject"], e["location"]): e for e in entries(ctx.store) if e["source"] == "technical-check"}

    rows = []
    for loc in sorted(locs, key=name.__getitem__):
        v = validations.get(loc)
        parts = {k: (v.group(p) if v else ("not run", [])) for k, p in GROUPS.items()}
        overall = "passed" if v and v.steps.get("validated", ("",))[0] in ("completed", "cached") else (
            "not run" if v is None else "not passed")
        rows.append({"location": name[loc], **{k: s for k, (s, _) in parts.items()}, "overall": overall,
                     "run": display.day(v.started) if v else "—",
                     "tech": "pass" if checks[loc].passed else f"{len(checks[loc].failures)} failing"})
    remediation = []
    for loc in sorted(locs, key=name.__getitem__):
        for c in checks[loc].failures:
            e = register.get((f"{loc}/{c.id}", loc))
            remediation.append({"location": name[loc], "check": c.title, "detail": c.detail.replace("|", "/"),
                                "owner": e["owner"] if e else "not assigned",
                                "due": display.day(e["due"]) if e and e["due"] else "no date"})
    status = compliance_status(ctx.store, org, today=as_of)
    counts = status.counts()
    validated = sum(r["overall"] == "passed" for r in rows)
    failing_sites = sum(r["tech"] != "pass" for r in rows)
    unowned = sum(r["owner"] == "not assigned" for r in remediation)
    rag = "RED" if failing_sites or not status.phi_ready else ("AMBER" if validated < len(rows) else "GREEN")
    answer = (f"IT status: {rag}. Integration validated at {validated} of {len(rows)} location(s); "
              f"{failing_sites} location(s) fail technical checks ({len(remediation)} check(s), {unowned} without an "
              f"owner); PHI {'may flow' if status.phi_ready else 'may not flow yet'} "
              f"({len(status.phi_missing)} requirement(s) before PHI incomplete).")
    return {
        "date": display.day(as_of),
        "question": "Is every location's integration validated, which technical failures remain and who fixes "
                    "them, and are security and compliance in place?",
        "doc": {"answer": answer, "rag": rag, "rows": rows, "remediation": remediation[:REMEDIATION_ROWS],
                "remediation_more": max(0, len(remediation) - REMEDIATION_ROWS),
                "security": {"phi_ready": status.phi_ready, "phi_missing": list(status.phi_missing)[:8],
                             "counts": ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no requirements",
                             "reminders": [{"title": r.title, "where": name.get(r.location, "organization"),
                                            "due": display.day(r.due_on)} for r in status.reminders][:8],
                             "access_violations": sum(int(a.summary.get("violations", 0)) for a in status.access),
                             "drift": sum(int(c.summary.get("drift", 0)) for c in status.configuration),
                             "checked": len(status.access) + len(status.configuration)},
                "as_of": display.day(as_of)},
    }
