"""Rollback deadlines and overdue steps checked while a phase runs (`program.deadlines`), on a real
store: a phase past its deadline and not done is escalated once; a done phase is not; an overdue
waiting step reminds its owner once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.gates import repository as gates
from golive.tasks.planning.organization import Organization
from golive.tasks.program.kinds import KINDS

pytestmark = pytest.mark.integration
K = {k.name: k.run for k in KINDS}
TRIGGER = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)
PHASES = [{"step": "deadline-2h", "phase": "immediate (2 h)", "within": "2h", "escalate_to": ["COO", "VP of Ops"]},
          {"step": "deadline-24h", "phase": "root cause and impact (24 h)", "within": "24h",
           "escalate_to": ["COO", "VP of Ops"]},
          {"step": "deadline-1w", "phase": "remediation (1 week)", "within": "7d", "escalate_to": ["CEO", "COO"]}]


def check(store: Any, org: Organization, now: datetime, run: str) -> dict[str, Any]:
    store.start_run(run_id=run, run_key=run, runbook="deadline-reminders", parameters={})
    ctx = StepContext(run_id=run, run_key=run, runbook="deadline-reminders", step_id="deadlines",
                      step_key="deadlines", store=store, org=org, artifacts=NullArtifacts(),
                      audit=lambda event, data: store.audit.append(event, data, run_id=run))
    out = K["program.deadlines"](ctx, {"rollback_phases": PHASES, "now": now.isoformat()})
    store.finish_run(run, "completed")
    return out


def test_an_open_rollback_past_its_deadline_is_escalated_once(store: Any, acme: Organization) -> None:
    gates.open_rollback(store, location="oak-park", reason="availability below 95% for 3 days", triggers=["uptime"],
                        triggered_at=TRIGGER, run_id="watch")
    # the rollback run is under way: its immediate phase is done, the 24-hour one is not
    store.start_run(run_id="rb", run_key="rb-key", runbook="rollback",
                    parameters={"locations": ["oak-park"], "triggered_at": TRIGGER.isoformat()})
    store.record_step(run_id="rb", run_key="rb-key", step_key="deadline-2h", step_id="deadline-2h",
                      state="completed", input_hash="h", outputs={})

    early = check(store, acme, TRIGGER + timedelta(hours=3), "d1")
    assert {r["phase"]: r["state"] for r in early["rollbacks"]} == {
        "immediate (2 h)": "done", "root cause and impact (24 h)": "open", "remediation (1 week)": "open"}
    assert early["reminders"] == []

    late = check(store, acme, TRIGGER + timedelta(hours=26), "d2")
    assert [(r["kind"], r["to"]) for r in late["reminders"]] == [("rollback", ["COO", "VP of Ops"])]
    assert "Rollback oak-park: root cause and impact (24 h) overdue since 2026-06-09T14:00:00+00:00 (2.0 h)" \
        in late["reminders"][0]["message"]

    again = check(store, acme, TRIGGER + timedelta(hours=27), "d3")  # the next hour: not repeated
    assert again["reminders"] == [] and len(again["overdue"]) == 1
    events = [e for e in store.audit.entries() if e.event == "deadline.reminder"]
    assert len(events) == 1 and events[0].run_id == "d2"


def test_a_closed_rollback_is_not_checked(store: Any, acme: Organization) -> None:
    gates.open_rollback(store, location="oak-park", reason="r", triggers=[], triggered_at=TRIGGER, run_id="w")
    gates.close_rollback(store, "oak-park")
    assert check(store, acme, TRIGGER + timedelta(days=30), "d1")["rollbacks"] == []


def test_an_overdue_waiting_step_reminds_its_owner_once_a_day(store: Any, acme: Organization) -> None:
    store.start_run(run_id="w2", run_key="wave2", runbook="wave-go-live", parameters={"wave": 2})
    store.audit.append("step.start", {"step": "champion-training", "owner": "CDO", "due": "2026-06-05"}, run_id="w2")
    store.audit.append("step.start", {"step": "staff-training", "owner": "Clinical Lead", "due": "2026-06-20"},
                       run_id="w2")
    store.audit.append("step.start", {"step": "configuration", "owner": "VP of IT", "due": "2026-06-01"}, run_id="w2")
    store.record_step(run_id="w2", run_key="wave2", step_key="configuration", step_id="configuration",
                      state="completed", input_hash="h", outputs={})
    monday = check(store, acme, datetime(2026, 6, 8, 15, tzinfo=UTC), "d1")
    assert [(r["to"], r["due"]) for r in monday["reminders"]] == [(["CDO"], "2026-06-05")]
    assert "step champion-training was due 2026-06-05 and is not done (owner: CDO)" in monday["reminders"][0]["message"]
    assert check(store, acme, datetime(2026, 6, 8, 16, tzinfo=UTC), "d2")["reminders"] == []
    assert len(check(store, acme, datetime(2026, 6, 9, 15, tzinfo=UTC), "d3")["reminders"]) == 1
    store.finish_run("w2", "completed")  # the phase's run ended: nothing more to remind
    assert check(store, acme, datetime(2026, 6, 10, 15, tzinfo=UTC), "d4")["overdue"] == []


def test_a_step_not_started_but_past_its_due_day_reminds_its_owner(store: Any, acme: Organization) -> None:
    # The run recorded every step's due day when it started; it is suspended on its first approval,
    # so the training step behind it never started, and its due day passes.
    store.start_run(run_id="w3", run_key="wave3", runbook="wave-go-live", parameters={"wave": 3},
                    audit=("run.start", {"runbook": "wave-go-live", "run_key": "wave3", "dues": [
                        {"step": "go-live-approval", "owner": "VP of Ops", "due": "2026-06-15"},
                        {"step": "staff-training", "owner": "Clinical Lead", "due": "2026-06-03"}]}))
    store.audit.append("step.start", {"step": "go-live-approval", "owner": "VP of Ops", "due": "2026-06-15"},
                       run_id="w3")
    store.set_run_state("w3", "suspended", audit=("run.suspended", {"runbook": "wave-go-live", "run_key": "wave3"}))
    out = check(store, acme, datetime(2026, 6, 8, 15, tzinfo=UTC), "d1")
    assert [(r["to"], r["due"]) for r in out["reminders"]] == [(["Clinical Lead"], "2026-06-03")]
    assert "step staff-training (not started) was due 2026-06-03" in out["reminders"][0]["message"]
