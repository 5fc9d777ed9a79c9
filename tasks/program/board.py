"""The program board: where every location stands (phase, wave, next item and owner: the earliest
due step of its runs in progress, started or not, else what its phase waits for; overdue steps
and remediation, last gate verdict, open rollback) and each wave's progress with red/amber/green.
Overrides of hard rules are listed on every board. Read only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from golive.tasks.program import repository
from golive.tasks.program.deadlines import open_steps
from golive.tasks.program.lifecycle import State

# What each phase waits for next, and who owns it (playbook section 4 timeline).
NEXT: Mapping[State, tuple[str, str]] = {
    State.ASSESSED: ("schedule into a wave", "VP of Ops"),
    State.SCHEDULED: ("configuration against the enterprise template", "VP of IT"),
    State.CONFIGURING: ("staff training", "Clinical Lead"),
    State.TRAINING: ("parallel run", "Regional Manager"),
    State.PARALLEL_RUN: ("go-live (with a GO and validation)", "Regional Manager"),
    State.LIVE: ("stabilisation (critical bugs resolved)", "VP of IT"),
    State.STABILISED: ("none: stabilised", ""),
    State.PAUSED: ("resume or defer", "VP of Ops"),
    State.ROLLED_BACK: ("remediation, then re-schedule", "VP of Ops"),
    State.DEFERRED: ("remediation, then re-assessment", "VP of Ops"),
}
DONE = (State.LIVE, State.STABILISED)


def in_use(store: Any) -> bool:
    """Whether the program tracks anything yet (no board before the first transition or override)."""
    return bool(repository.locations(store) or repository.overrides(store))


def build(store: Any, org: Any, today: date) -> dict[str, Any]:
    from golive.tasks.gates.repository import open_rollbacks, verdicts

    where = repository.locations(store)
    rollbacks = open_rollbacks(store)
    last_verdict: dict[str, dict[str, Any]] = {}
    for v in verdicts(store):
        if v["wave"] is not None:
            last_verdict[str(v["wave"])] = v
    overrides = repository.overrides(store)
    steps: dict[str, list[Any]] = {}  # location -> open steps of its runs in progress, earliest due first
    for st in open_steps(store):
        for loc in st.locations:
            steps.setdefault(loc, []).append(st)
    ids = [loc.id for loc in getattr(org, "locations", ())] or sorted(where)
    rows = []
    for loc in ids:
        w = where.get(loc)
        state = w.state if w else None
        nxt, owner = NEXT[state] if state else ("readiness assessment", "VP of Ops")
        overdue = []
        if w and state is State.DEFERRED:
            items = [r for r in (w.remediation or []) if r.get("due") and str(r["due"]) < today.isoformat()]
            overdue = [f"{r.get('action')} (due {r['due']}, {r.get('owner')})" for r in items]
            todo = sorted((w.remediation or []), key=lambda r: str(r.get("due", "")))
            if todo:
                nxt, owner = f"{todo[0].get('action')} (due {todo[0].get('due')})", str(todo[0].get("owner", owner))
        pending = steps.get(loc, [])
        if pending and state is not State.DEFERRED:
            # The wave's own calendar: the earliest step still open, started or not, with its owner.
            first = pending[0]
            nxt, owner = f"{first.step} in {first.runbook} (due {first.due.isoformat()})", first.owner
        # Overdue steps are shown here; their reminders come from `deadline-reminders` (hourly).
        late = [f"{st.step} in {st.runbook} (due {st.due.isoformat()}, {st.owner}"
                + (")" if st.started else ", not started)") for st in pending if st.due < today]
        verdict = last_verdict.get(str(w.wave)) if w and w.wave is not None else None
        rows.append({
            "location": loc, "phase": state.value if state else "not assessed", "wave": w.wave if w else None,
            "next": nxt, "owner": owner, "overdue": overdue, "overdue_steps": late,
            "go_live_on": w.go_live_on.isoformat() if w and w.go_live_on else None,
            "last_gate": verdict["verdict"] if verdict else None,
            "open_rollback": rollbacks[loc]["reason"] if loc in rollbacks else None,
            "overrides": [o["id"] for o in overrides if o["subject"] == loc],
        })
    waves = []
    for n in sorted({r["wave"] for r in rows if r["wave"] is not None}):
        mine = [r for r in rows if r["wave"] == n]
        live = sum(1 for r in mine if r["phase"] in {s.value for s in DONE})
        verdict = last_verdict.get(str(n))
        if any(r["open_rollback"] for r in mine) or (verdict and verdict["verdict"] == "no-go"):
            rag = "red"
        elif any(r["overdue"] or r["overdue_steps"] or r["phase"] == "paused" for r in mine) or \
                any(o["wave"] == n for o in overrides) or (verdict and verdict["verdict"] == "inconclusive"):
            rag = "amber"
        else:
            rag = "green"
        waves.append({"wave": n, "locations": len(mine), "live": live,
                      "progress_pct": round(100.0 * live / len(mine), 1), "last_gate": verdict["verdict"] if verdict else None,
                      "rag": rag})
    from golive.tasks.delivery.send import unconfirmed

    held = [{k: d[k] for k in ("run_key", "step_key", "channel", "message_id", "subject", "recipients", "at")}
            for d in unconfirmed(store)]  # a person checks these with a recipient
    return {"as_of": today.isoformat(), "locations": rows, "waves": waves, "overrides": overrides,
            "unconfirmed": held}


def markdown(b: Mapping[str, Any]) -> str:
    lines = [f"# Program board (as of {b['as_of']})", "", "## Waves", "",
             "| Wave | Locations | Live | Progress | Last gate | RAG |", "|---|---|---|---|---|---|"]
    for w in b["waves"]:
        lines.append(f"| {w['wave']} | {w['locations']} | {w['live']} | {w['progress_pct']}% | "
                     f"{(w['last_gate'] or '—').upper()} | {w['rag'].upper()} |")
    lines += ["", "## Locations", "", "| Location | Phase | Wave | Next | Owner | Overdue | Last gate | Open rollback |",
              "|---|---|---|---|---|---|---|---|"]
    for r in b["locations"]:
        lines.append(f"| {r['location']} | {r['phase']} | {r['wave'] or '—'} | {r['next']} | {r['owner'] or '—'} | "
                     f"{'; '.join(r['overdue'] + r.get('overdue_steps', [])) or '—'} | {(r['last_gate'] or '—').upper()} | "
                     f"{r['open_rollback'] or '—'} |")
    lines += ["", "## Overrides of hard rules", ""]
    if not b["overrides"]:
        lines.append("None.")
    for o in b["overrides"]:
        lines.append(f"- #{o['id']} {o['guard']} ({o['subject']}): {o['detail']} — overridden by {o['name']} "
                     f"({o['role']}) on {o['at'][:10]}: “{o['reason']}”")
    lines += ["", "## Messages not confirmed delivered", ""]
    if not b.get("unconfirmed"):
        lines.append("None.")
    for d in b.get("unconfirmed", []):
        lines.append(f"- {d['subject']} ({d['channel']}, {d['message_id']}) to {', '.join(d['recipients'])}: "
                     f"run {d['run_key']}, step {d['step_key']}; the process stopped after handing it over. "
                     "Ask a recipient whether it arrived; re-send by hand if not.")
    return "\n".join(lines) + "\n"


def publish(b: Mapping[str, Any], out_dir: Path, artifacts: Any) -> Path:
    text = markdown(b)
    path = Path(out_dir) / "program-board.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # readers never see half a board
    artifacts.markdown("program-board", text, description=f"Program board as of {b['as_of']}")
    return path
