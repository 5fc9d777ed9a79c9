"""Deadline checks while a phase runs (the `deadline-reminders` runbook, hourly from `golive
schedule sync`), not only when a phase's last step finishes.

- Rollback deadlines: every open rollback's phases (2 h, 24 h, 1 week from the trigger, as the
  runbook lists them) whose time has passed while the rollback run has not completed that phase's
  checkpoint step (or no rollback run exists yet). Each is escalated once, to the phase's roles.
- Overdue steps: a step of a run still in progress (running, or suspended on a person) with a due
  date (its wave's own calendar, recorded for every step when the run starts) that is past it
  without having completed, started or not: typically an approval or checklist waiting on a
  person, or the steps behind it. Its owner is reminded once a day while it stays overdue.

A reminder already given (its key in an earlier `deadline.reminder` audit entry) is not given
again, so an hourly schedule does not repeat itself. Plain data; the step kind writes the audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from golive.tasks.gates.repository import open_rollbacks

REMINDER_EVENT = "deadline.reminder"


@dataclass(frozen=True)
class RollbackPhase:
    step: str  # the rollback runbook's checkpoint step for the phase (`deadline-2h`)
    phase: str
    within: timedelta
    escalate_to: tuple[str, ...]


@dataclass(frozen=True)
class Reminder:
    key: str  # what makes it the same reminder next hour
    kind: str  # rollback | step
    to: tuple[str, ...]
    due: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "to": list(self.to), "due": self.due, "message": self.message}


def _rollback_run_steps(store: Any, location: str, triggered_at: str) -> set[str]:
    """Steps completed by the rollback run(s) for this location and trigger time."""
    done: set[str] = set()
    for run in store.list_runs():
        p = run.parameters or {}
        if run.runbook == "rollback" and location in (p.get("locations") or []) and \
                str(p.get("triggered_at") or "") == triggered_at:
            done |= set(store.completed_steps(run.run_key))
    return done


def rollback_checks(store: Any, phases: Sequence[RollbackPhase], now: datetime) -> tuple[list[dict[str, Any]], list[Reminder]]:
    """Every open rollback's phases: their status, and an escalation for each one past due and open."""
    rows, due = [], []
    for location, rb in sorted(open_rollbacks(store).items()):
        since = datetime.fromisoformat(rb["triggered_at"])
        done = _rollback_run_steps(store, location, rb["triggered_at"])
        for ph in phases:
            at = since + ph.within
            state = "done" if ph.step in done else ("overdue" if now > at else "open")
            rows.append({"location": location, "rollback_id": rb["id"], "phase": ph.phase, "due_at": at.isoformat(),
                         "state": state})
            if state == "overdue":
                late_h = (now - at).total_seconds() / 3600
                due.append(Reminder(f"rollback:{rb['id']}:{ph.step}", "rollback", ph.escalate_to, at.isoformat(),
                                    f"Rollback {location}: {ph.phase} overdue since {at.isoformat()} "
                                    f"({late_h:.1f} h) and not done ({rb['reason']})"))
    return rows, due


IN_PROGRESS = ("running", "suspended")  # a suspended run waits on a person: its steps are still due


@dataclass(frozen=True)
class OpenStep:
    """A step of a run in progress, with a due day, not completed (started or not)."""

    run_key: str
    runbook: str
    locations: tuple[str, ...]
    step: str
    owner: str
    due: date
    started: bool


def open_steps(store: Any) -> list[OpenStep]:
    """Every step with a due day of every run in progress that has not completed: the due days
    planned at run start (`run.start` `dues`) and those of started steps (runs from before that was
    recorded). A for-each step counts as done once an item of it completed."""
    out = []
    for run in [r for state in IN_PROGRESS for r in store.list_runs(state=state)]:
        entries = store.audit.entries(run_id=run.run_id)
        planned: dict[str, dict[str, Any]] = {}
        for e in entries:
            if e.event == "run.start":
                planned.update({str(d["step"]): d for d in e.data.get("dues") or []})
        started = {str(e.data["step"]).split("[", 1)[0]: e.data for e in entries
                   if e.event == "step.start" and e.data.get("due")}
        for step, d in started.items():
            planned.setdefault(step, d)
        completed = set(store.completed_steps(run.run_key))
        p = run.parameters or {}
        locations = tuple(str(x) for x in (p.get("locations") or ([p["location"]] if p.get("location") else [])))
        for step, d in planned.items():
            if any(k == step or k.startswith(f"{step}[") for k in completed):
                continue
            out.append(OpenStep(run.run_key, run.runbook, locations, step, str(d.get("owner") or "VP of Ops"),
                                date.fromisoformat(str(d["due"])), step in started))
    return sorted(out, key=lambda s: (s.due, s.run_key, s.step))


def step_checks(store: Any, today: date) -> list[Reminder]:
    """Steps of runs in progress (running, or suspended on a person) past their due day and not
    completed, whether they started or not: the owner is reminded once a day."""
    out = []
    for s in open_steps(store):
        if s.due >= today:
            continue
        what = "" if s.started else " (not started)"
        out.append(Reminder(f"step:{s.run_key}:{s.step}:{today.isoformat()}", "step", (s.owner,), s.due.isoformat(),
                            f"{s.runbook} ({s.run_key}): step {s.step}{what} was due {s.due.isoformat()} and is not "
                            f"done (owner: {s.owner})"))
    return out


def given(store: Any) -> set[str]:
    return {str(e.data.get("key")) for e in store.audit.entries() if e.event == REMINDER_EVENT}


def fresh(reminders: Iterable[Reminder], already: set[str]) -> list[Reminder]:
    seen = set(already)
    out = []
    for r in reminders:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out
