"""`golive schedule sync` against a real Prefect server: the plan's schedules appear on the
deployments (gate on business days from the wave's go-live, rollback watch hourly for live
locations), a stored GO pauses its gate, and a second sync updates rather than duplicates; the
server's own run times for a gate skip weekends and the organization's holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.flows.cli.program import apply_schedules
from golive.tasks.gates import repository as gates
from golive.tasks.gates.records import GateVerdictRow
from golive.tasks.program import repository
from golive.tasks.program.lifecycle import State
from golive.tasks.program.schedules import desired
from golive.tasks.store import Store

pytestmark = pytest.mark.e2e
PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]


def deployments(client: Any) -> dict[str, Any]:
    ids = {}
    for name in ("go-no-go-wave1", "go-no-go-wave2", "go-no-go-wave3", "rollback-watch", "program-status",
                 "deadline-reminders"):
        flow_id = client.create_flow_from_name(name)
        ids[name] = client.create_deployment(flow_id=flow_id, name=name)
    return ids


def schedules(client: Any, dep_id: Any) -> dict[str, Any]:
    return {s.slug: s for s in client.read_deployment_schedules(dep_id)}


def server_runs(client: Any, dep_id: Any, start: datetime, end: datetime) -> list[datetime]:
    """The run times the server itself schedules for the deployment in [start, end] (its
    `/deployments/{id}/schedule` endpoint, what its scheduler service calls), in UTC."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    made = client.request("POST", "/deployments/{id}/schedule", path_params={"id": dep_id},
                          json={"start_time": start.isoformat(), "end_time": end.isoformat(), "min_runs": 50,
                                "max_runs": 50, "min_time": (end - start).total_seconds()})
    made.raise_for_status()
    runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep_id])),
                                 sort=FlowRunSort.EXPECTED_START_TIME_ASC)
    times = [r.expected_start_time.astimezone(UTC) for r in runs]
    return [t for t in times if start <= t <= end]  # not the ones the scheduler service may add from now


def test_sync_creates_the_plan_schedules_and_a_go_pauses_the_gate(golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import get_client

    store = Store.open()
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    day = date(2026, 3, 30)
    for to in (State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN, State.LIVE):
        repository.apply(store, [repository.Change(loc, to, 1, day) for loc in PILOT], run_id="r", step_key=to.value)
    with get_client(sync_client=True) as client:
        ids = deployments(client)
        # Good Friday 2026-04-03 is no holiday here; Monday 2026-04-06 is; one before the go-live is not kept
        holidays = {date(2026, 1, 19), date(2026, 4, 6)}
        first = apply_schedules(desired(store, "America/Chicago", holidays=holidays))
        assert [(r["slug"], r["action"]) for r in first] == [("golive-plan-wave1-gate", "created"),
                                                             ("golive-plan-weekly-status", "created"),
                                                             ("golive-plan-rollback-watch", "created")]
        weekly = schedules(client, ids["program-status"])["golive-plan-weekly-status"]
        assert weekly.active and weekly.schedule.interval == timedelta(weeks=1)
        assert weekly.schedule.anchor_date.date() == day  # 2026-03-30 is a Monday
        gate = schedules(client, ids["go-no-go-wave1"])["golive-plan-wave1-gate"]
        assert gate.active and gate.schedule.timezone == "America/Chicago" and gate.parameters["locations"] == sorted(PILOT)
        assert gate.schedule.rrule == ("DTSTART:20260330T070000\n"
                                       "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=0;BYSECOND=0\n"
                                       "EXDATE:20260406T070000")
        # 07:00 CDT (12:00 UTC) Monday to Friday; not the weekend nor the holiday Monday: Tuesday next
        runs = server_runs(client, ids["go-no-go-wave1"], datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 4, 9, tzinfo=UTC))
        assert runs == [datetime(2026, 3, d, 12, tzinfo=UTC) for d in (30, 31)] + \
                       [datetime(2026, 4, d, 12, tzinfo=UTC) for d in (1, 2, 3, 7, 8)]
        assert gate.parameters["pilot_start"] == "2026-03-30" and gate.parameters["baseline_end"] == "2026-03-29"
        watch = schedules(client, ids["rollback-watch"])["golive-plan-rollback-watch"]
        assert watch.active and watch.schedule.interval == timedelta(hours=1)
        assert watch.parameters["locations"] == sorted(PILOT)
        assert schedules(client, ids["go-no-go-wave2"]) == {}  # wave 2 has no go-live yet

        with store.session() as s:  # the daily gate stores a GO
            s.add(GateVerdictRow(gate="go-no-go-wave1", runbook="go-no-go-wave1", run_id="g", step_key="gate",
                                 wave="1", as_of=date(2026, 4, 26), verdict="go", score=1.0, evidence={},
                                 decided_at=datetime.now(UTC)))
        second = apply_schedules(desired(store, "America/Chicago", holidays=holidays))
        assert [(r["slug"], r["action"]) for r in second] == [("golive-plan-wave1-gate", "paused"),
                                                              ("golive-plan-weekly-status", "updated"),
                                                              ("golive-plan-rollback-watch", "updated")]
        after = schedules(client, ids["go-no-go-wave1"])
        assert list(after) == ["golive-plan-wave1-gate"] and not after["golive-plan-wave1-gate"].active
    store.dispose()

    dry = CliRunner().invoke(app, ["schedule", "sync", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    refused = CliRunner().invoke(app, ["schedule", "sync"])
    assert refused.exit_code == 2 and "PREFECT_API_URL is not set" in refused.output


WAVE3 = ["westfield", "rural-clinic", "kingsbridge"]


def test_deadline_reminders_run_while_a_phase_runs_and_wave_3_has_its_gate(golive_env: Path) -> None:
    from prefect import get_client

    store = Store.open()
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    start, first = date(2027, 4, 5), date(2027, 4, 12)
    repository.record_phases(store, [repository.PlannedPhase("wave-3", 3, start, first, date(2027, 4, 30))],
                             run_id="plan")
    for to, day in ((State.SCHEDULED, start), (State.CONFIGURING, start), (State.TRAINING, start),
                    (State.PARALLEL_RUN, start), (State.LIVE, first)):
        repository.apply(store, [repository.Change(loc, to, 3, day) for loc in WAVE3], run_id="r", step_key=to.value)
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.actions import DeploymentScheduleCreate
        from prefect.client.schemas.schedules import IntervalSchedule, RRuleSchedule

        ids = deployments(client)
        # an older sync left a daily interval gate schedule (weekends included): this sync replaces it in place
        client.create_deployment_schedules(ids["go-no-go-wave3"], [DeploymentScheduleCreate(
            schedule=IntervalSchedule(interval=timedelta(days=1), anchor_date=datetime(2027, 4, 12, 12, tzinfo=UTC)),
            active=True, parameters={}, slug="golive-plan-wave3-gate")])
        during = {r["slug"]: r for r in apply_schedules(desired(store, "America/Chicago", today=date(2027, 4, 14)))}
        assert during["golive-plan-deadline-reminders"]["action"] == "created"
        assert "wave-3 runs 2027-04-05–2027-04-30" in during["golive-plan-deadline-reminders"]["why"]
        reminders = schedules(client, ids["deadline-reminders"])["golive-plan-deadline-reminders"]
        assert reminders.active and reminders.schedule.interval == timedelta(hours=1)
        assert during["golive-plan-wave3-gate"]["action"] == "updated"
        [gate] = client.read_deployment_schedules(ids["go-no-go-wave3"])
        assert gate.slug == "golive-plan-wave3-gate" and isinstance(gate.schedule, RRuleSchedule) and gate.active
        assert gate.schedule.rrule.startswith(f"DTSTART:{first:%Y%m%d}T070000\n") and gate.parameters["locations"] == sorted(WAVE3)
        # from Friday 2027-04-16: Friday, then Monday (the old interval would have run Saturday and Sunday)
        assert server_runs(client, ids["go-no-go-wave3"], datetime(2027, 4, 16, 12, tzinfo=UTC),
                           datetime(2027, 4, 19, 23, tzinfo=UTC)) == [datetime(2027, 4, 16, 12, tzinfo=UTC),
                                                                       datetime(2027, 4, 19, 12, tzinfo=UTC)]
        assert set(gate.parameters) == {"locations", "pilot_start", "pilot_end", "baseline_start", "baseline_end",
                                        "go_lives"}
        assert gate.parameters["go_lives"] == {loc: first.isoformat() for loc in WAVE3}  # each one's own go-live

        with store.session() as s:  # wave 3's daily gate stores a GO
            s.add(GateVerdictRow(gate="go-no-go-wave3", runbook="go-no-go-wave3", run_id="g", step_key="gate",
                                 wave="3", as_of=date(2027, 5, 10), verdict="go", score=1.0, evidence={},
                                 decided_at=datetime.now(UTC)))
        after = {r["slug"]: r for r in apply_schedules(desired(store, "America/Chicago", today=date(2027, 5, 11)))}
        assert after["golive-plan-wave3-gate"]["action"] == "paused"
        assert after["golive-plan-deadline-reminders"]["action"] == "paused"  # the phase ended on 2027-04-30
        assert not schedules(client, ids["go-no-go-wave3"])["golive-plan-wave3-gate"].active
        assert not schedules(client, ids["deadline-reminders"])["golive-plan-deadline-reminders"].active

        # a rollback opened after the phase: the reminders run again while it is open
        gates.open_rollback(store, location="westfield", reason="uptime", triggers=[], triggered_at=datetime.now(UTC),
                            run_id="watch")
        rb = {r["slug"]: r for r in apply_schedules(desired(store, "America/Chicago", today=date(2027, 5, 12)))}
        assert rb["golive-plan-deadline-reminders"]["action"] == "updated"
        assert "1 open rollback(s): westfield" in rb["golive-plan-deadline-reminders"]["why"]
        assert schedules(client, ids["deadline-reminders"])["golive-plan-deadline-reminders"].active
    store.dispose()
