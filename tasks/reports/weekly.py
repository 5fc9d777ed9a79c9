"""Weekly programme status: red/amber/green per wave and location, due and overdue items, decisions
needed, from the risk and issue register and the week's rollback-trigger check."""

from __future__ import annotations

from datetime import date
from typing import Any

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.register.register import entries
from golive.tasks.reports import display

RAG_ORDER = {"RED": 0, "AMBER": 1, "GREEN": 2}


def assemble(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is None:
        raise StepFailed("weekly status needs the store (the risk and issue register)")
    context = params.get("context") or {}
    org = ctx.org
    locations = [str(x) for x in context.get("locations") or []]
    wave = str(context.get("wave", ""))
    as_of = date.fromisoformat(str(context["as_of"])) if context.get("as_of") else (
        ctx.today())
    items = entries(ctx.store)
    overdue = [e for e in items if e["due"] and date.fromisoformat(e["due"]) < as_of]
    rows = []
    for loc in sorted(locations, key=lambda x: display.location_name(org, x)):
        mine = [e for e in items if e["location"] == loc]
        rag = "RED" if any(e["severity"] == "high" for e in mine) else ("AMBER" if mine else "GREEN")
        rows.append({"location": display.location_name(org, loc), "wave": wave or "—", "rag": rag,
                     "open": str(len(mine)), "why": "; ".join(e["title"] for e in mine[:2]) or "on plan"})
    rows.sort(key=lambda r: (RAG_ORDER[r["rag"]], r["location"]))
    wave_rag = min((r["rag"] for r in rows), key=lambda x: RAG_ORDER[x], default="GREEN")
    programme = "RED" if wave_rag == "RED" or len(overdue) > 3 else ("AMBER" if wave_rag == "AMBER" or overdue else "GREEN")
    decisions = [e for e in items if e["decision"]]
    reds = sum(r["rag"] == "RED" for r in rows)
    answer = (f"Programme status: {programme}. {reds} of {len(rows)} live location(s) red, {len(items)} open item(s), "
              f"{len(overdue)} overdue, {len(decisions)} decision(s) needed.")

    def item(e: dict[str, Any]) -> dict[str, str]:
        return {"title": e["title"], "where": display.location_name(org, e["location"]) if e["location"] else "programme",
                "owner": e["owner"], "due": display.day(e["due"]) or "no date", "source": e["source"]}

    return {
        "date": display.day(as_of),
        "question": "Where does the rollout stand this week, and what needs a decision?",
        "doc": {"answer": answer, "programme": programme, "wave_rag": wave_rag, "wave": wave, "rows": rows,
                "overdue": [item(e) for e in overdue], "due": [item(e) for e in items if e not in overdue][:15],
                "decisions": [item(e) for e in decisions], "as_of": display.day(as_of)},
    }
