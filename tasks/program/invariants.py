"""The program's invariants, checked over what the store holds (every transition, verdict,
validation and override), whoever wrote it: a runbook, a schedule or a hand-made SQL change.

- lifecycle: replaying each location's transitions through the state machine finds no illegal one;
- go-live-needs-go: a wave N >= 2 go-live came after a stored GO for wave N-1, or relied on an override;
- go-live-validated: a go-live came after a passed integration validation, or relied on an override;
- slots: at most 3 go-lives a day, at most 5 a week in wave 3;
- one-go-live: no location went live twice without a rollback (or pause) between;
- baselines-before-pilot: a pilot (wave 1) location entered configuration with every baseline
  metric imported before that moment, or relied on an override;
- rollback-scoped: a run that rolled a location back changed no other location's lifecycle;
- deadlines-met-or-escalated: every deadline check was met, or its overdue was escalated to a named
  role, and every rollback run recorded its deadline checks; every remediation item of a deferred
  location was met (the location left deferred by its due date) or its owner was reminded within
  a week after it (the weekly program status);
- no-effect-twice: no approval recorded twice for one step of a run key, no delivery sent twice
  under one idempotency key.
Each returns how often it was checked and what broke.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from golive.tasks.program import lifecycle, repository
from golive.tasks.program.lifecycle import State
from golive.tasks.program.slots import DAY_CAP, WEEK_CAP, monday


@dataclass
class Result:
    name: str
    checked: int = 0
    broken: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"invariant": self.name, "checked": self.checked, "broken": len(self.broken), "details": self.broken[:20]}


def check(store: Any, today: date | None = None) -> list[Result]:
    """Every invariant over the stored history; `today` (default: the program's clock) decides
    which remediation deadlines have passed."""
    from golive.tasks.gates.repository import verdicts

    events = repository.events(store)
    overrides = {o["id"]: o for o in repository.overrides(store)}
    with store.session(readonly=True) as session:
        from sqlalchemy import select

        from golive.tasks.program.records import ValidationResultRow

        validations = [(r.location_id, r.passed, r.at) for r in session.scalars(select(ValidationResultRow))]
    gos = [(int(v["wave"]), v) for v in verdicts(store) if v["wave"] and str(v["wave"]).isdigit() and v["verdict"] == "go"]
    legal, needs_go, validated, slots, once = (Result("lifecycle"), Result("go-live-needs-go"),
                                               Result("go-live-validated"), Result("slots"), Result("one-go-live"))
    baselines = Result("baselines-before-pilot")
    imported = _baseline_imports(store)
    state: dict[str, tuple[State | None, State | None]] = {}
    live_since: dict[str, bool] = {}
    per_day: Counter[Any] = Counter()
    per_week: Counter[Any] = Counter()
    for e in events:
        loc, target = e["location"], State(e["to"])
        current, paused_from = state.get(loc, (None, None))
        legal.checked += 1
        try:
            lifecycle.check(loc, current, target, paused_from)
        except lifecycle.IllegalTransition as exc:
            legal.broken.append(f"event #{e['id']}: {exc}")
        state[loc] = (target, current if target is State.PAUSED else None)
        if target is State.CONFIGURING and e["wave"] == 1:
            baselines.checked += 1
            used_here = {overrides[i]["guard"] for i in e["overrides"] if i in overrides}
            at = datetime.fromisoformat(e["at"])
            have = {m for m, when in imported.get(loc, {}).items() if when <= at}
            missing = imported.get("*wanted*", {}).keys() - have
            if missing and "baselines" not in used_here:
                baselines.broken.append(f"{loc} entered the pilot on {e['on']} with {len(missing)} baseline metric(s) "
                                        "missing and no override")
        if target is not State.LIVE:
            if target in (State.ROLLED_BACK, State.PAUSED):
                live_since[loc] = False
            continue
        used = {overrides[i]["guard"] for i in e["overrides"] if i in overrides}
        wave = e["wave"]
        if wave is not None and wave >= 2:
            needs_go.checked += 1
            ok = any(n == wave - 1 and v["as_of"] <= e["on"].isoformat() for n, v in gos) or "previous-wave-go" in used
            if not ok:
                needs_go.broken.append(f"{loc} live on {e['on']} in wave {wave} without a stored GO for wave {wave - 1}")
        validated.checked += 1
        at = datetime.fromisoformat(e["at"])
        if not any(v_loc == loc and passed and v_at <= at for v_loc, passed, v_at in validations) \
                and "integration-validated" not in used:
            validated.broken.append(f"{loc} live on {e['on']} without a passed integration validation or override")
        per_day[e["on"]] += 1
        per_week[(wave, monday(e["on"]))] += 1
        slots.checked += 1
        if per_day[e["on"]] > DAY_CAP:
            slots.broken.append(f"{e['on']}: {per_day[e['on']]} go-lives (at most {DAY_CAP})")
        cap = WEEK_CAP.get(wave or 0)
        if cap is not None and per_week[(wave, monday(e["on"]))] > cap:
            slots.broken.append(f"week of {monday(e['on'])}: {per_week[(wave, monday(e['on']))]} wave {wave} go-lives (at most {cap})")
        once.checked += 1
        if live_since.get(loc):
            once.broken.append(f"{loc} went live again on {e['on']} without a rollback or pause between")
        live_since[loc] = True
    if today is None:
        from golive.tasks.foundation import clock

        today = clock.now().date()
    return [legal, needs_go, validated, slots, once, baselines, rollback_scoped(events),
            deadlines(store, events, today), effects_once(store)]


def rollback_scoped(events: list[dict[str, Any]]) -> Result:
    """Each run that rolled a location back moved only the locations it rolled back."""
    out = Result("rollback-scoped")
    by_run: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_run.setdefault(e["run_id"], []).append(e)
    for run_id, mine in by_run.items():
        rolled = {e["location"] for e in mine if e["to"] == State.ROLLED_BACK.value}
        if not rolled:
            continue
        out.checked += 1
        others = sorted({e["location"] for e in mine} - rolled)
        if others:
            out.broken.append(f"run {run_id} rolled back {', '.join(sorted(rolled))} and also changed "
                              f"{', '.join(others)}")
    return out


ESCALATION_GRACE = timedelta(days=7)  # the weekly program status reminds owners of overdue items


def deadlines(store: Any, events: list[dict[str, Any]], today: date) -> Result:
    """Every `deadline.check` was met or escalated; every rollback run checked its deadlines;
    every remediation due date was met or escalated."""
    import json

    from sqlalchemy import select

    from golive.tasks.store.models import AuditEntryRow, RunRow

    out = Result("deadlines-met-or-escalated")
    with store.session(readonly=True) as session:
        rows = list(session.execute(select(AuditEntryRow.event, AuditEntryRow.run_id, AuditEntryRow.data)
                                    .where(AuditEntryRow.event.in_(("deadline.met", "deadline.overdue")))))
        rollbacks = list(session.execute(select(RunRow.run_id, RunRow.state).where(RunRow.runbook == "rollback")))
        reminders = [json.loads(d) for (d,) in session.execute(
            select(AuditEntryRow.data).where(AuditEntryRow.event == "notify")) if "overdue remediation" in d]
    checked_runs = set()
    for event, run_id, data in rows:
        out.checked += 1
        checked_runs.add(run_id)
        if event == "deadline.overdue" and not json.loads(data).get("to"):
            out.broken.append(f"run {run_id}: an overdue deadline escalated to nobody")
    for run_id, state in rollbacks:
        if state in ("running", "paused"):
            continue
        out.checked += 1
        if run_id not in checked_runs:
            out.broken.append(f"rollback run {run_id} ({state}) recorded no deadline check")
    _remediation(store, events, reminders, today, out)
    return out


def _reminded(loc: str, action: str, reminders: list[dict[str, Any]]) -> bool:
    """A reminder about `loc`'s overdue `action`: by the location its notify recorded (the message
    names the location for people), or, in entries written before that, by the id the message began with."""
    for r in reminders:
        message = str(r.get("message", ""))
        about = r.get("location") == loc or message.startswith(f"{loc}: overdue remediation")
        if about and "overdue remediation" in message and action in message:
            return True
    return False


def _remediation(store: Any, events: list[dict[str, Any]], reminders: list[dict[str, Any]], today: date,
                 out: Result) -> None:
    """Each remediation item (kept on the location from its latest deferral): met when the
    location left deferred by the due date; else, once a week past it, its owner was reminded."""
    left: dict[str, date] = {}
    for e in events:
        if e["to"] == State.DEFERRED.value:
            left.pop(e["location"], None)
        elif e["from"] == State.DEFERRED.value:
            left[e["location"]] = e["on"]
    for loc, where in repository.locations(store).items():
        for item in where.remediation or []:
            try:
                due = date.fromisoformat(str(item.get("due"))[:10])
            except ValueError:
                continue
            out.checked += 1
            done = left.get(loc)
            if (done is not None and done <= due) or today <= due + ESCALATION_GRACE:
                continue
            action = str(item.get("action", ""))
            if not _reminded(loc, action, reminders):
                out.broken.append(f"{loc}: remediation '{action}' due {due} neither met nor escalated")


def effects_once(store: Any) -> Result:
    """No side effect twice: an approval recorded once per step of a run key, a delivery sent once
    per idempotency key. (A step re-run on resume is not an effect: checks re-read, and the writes
    that matter carry their own keys or go through the lifecycle, which the other invariants cover.)"""
    from sqlalchemy import func, select

    from golive.tasks.delivery.records import DeliveryRow
    from golive.tasks.store.models import ApprovalRow, RunRow

    out = Result("no-effect-twice")
    with store.session(readonly=True) as session:
        approvals = session.execute(select(RunRow.run_key, ApprovalRow.step_key, func.count())
                                    .join(RunRow, RunRow.run_id == ApprovalRow.run_id)
                                    .group_by(RunRow.run_key, ApprovalRow.step_key)).all()
        sent = session.execute(select(DeliveryRow.idempotency_key, func.count())
                               .where(DeliveryRow.state == "sent").group_by(DeliveryRow.idempotency_key)).all()
    for run_key, step_key, n in approvals:
        out.checked += 1
        if n > 1:
            out.broken.append(f"approval recorded {n} times: {run_key} / {step_key}")
    for key, n in sent:
        out.checked += 1
        if n > 1:
            out.broken.append(f"delivery {key} sent {n} times")
    return out


def _baseline_imports(store: Any) -> dict[str, dict[str, datetime]]:
    """{location: {metric: first import time}}, plus the catalogue under "*wanted*"."""
    from sqlalchemy import select

    from golive.tasks.planning.metric_store import BaselineMetricRow
    from golive.tasks.planning.metrics import catalog

    out: dict[str, dict[str, datetime]] = {"*wanted*": {m: datetime.min for m in catalog()}}
    with store.session(readonly=True) as session:
        for r in session.scalars(select(BaselineMetricRow)):
            seen = out.setdefault(r.location_id, {})
            if r.metric not in seen or r.imported_at < seen[r.metric]:
                seen[r.metric] = r.imported_at
    return out
