"""Due dates from each wave's stored plan, on a real store: the readiness assessment's calendar
goes in through `program.plan`, and a `wave-go-live` run for wave 2 counts its due dates from
wave 2's own start and weeks, never from the pilot's and never before the run's start."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from golive.flows.engine import loaded
from golive.flows.engine.dues import for_run
from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import resolve_runbook
from golive.tasks.planning import kinds as planning
from golive.tasks.planning.organization import Organization
from golive.tasks.program import repository
from golive.tasks.program.kinds import KINDS

pytestmark = pytest.mark.integration
K = {k.name: k.run for k in KINDS}


def ctx(store: Any, org: Organization, tmp_path: Path, key: str = "s") -> StepContext:
    if store.get_run("plan-run") is None:
        store.start_run(run_id="plan-run", run_key="k", runbook="readiness-assessment", parameters={})
    return StepContext(run_id="plan-run", run_key="k", runbook="readiness-assessment", step_id=key, step_key=key,
                       store=store, org=org, out_dir=tmp_path, artifacts=NullArtifacts(),
                       run_started=datetime(2027, 1, 4, 15, tzinfo=UTC),
                       audit=lambda event, data: store.audit.append(event, data, run_id="plan-run"))


def record_plan(store: Any, acme: Organization, tmp_path: Path) -> dict[str, Any]:
    waves = planning.run_waves(ctx(store, acme, tmp_path), {})
    calendar = planning.run_calendar(ctx(store, acme, tmp_path), {"start": "2027-01-04", "waves": waves["waves"]})
    for n, ids in waves["waves"].items():  # the example's 12-site wave 2 needs its recorded decision
        if len(ids) > 8:
            repository.record_override(store, guard="wave-size", subject=f"wave {n}", wave=int(n), detail="",
                                       name="Alex Kim", role="COO", reason="test", run_id="plan-run", step_key="o")
    out = K["program.plan"](ctx(store, acme, tmp_path), {"waves": waves["waves"], "deferred": waves["deferred"],
                                                         "start": "2027-01-04", "phases": calendar["plan_phases"]})
    return {"calendar": calendar, "plan": out}


def test_wave_two_counts_from_its_own_stored_start(store: Any, acme: Organization, tmp_path: Path) -> None:
    got = record_plan(store, acme, tmp_path)
    stored = repository.phases(store)
    assert [p["phase"] for p in got["plan"]["phases"]] == ["pre-implementation", "wave-1", "wave-2", "wave-3"]
    w1, w2 = stored["wave-1"], stored["wave-2"]
    book = loaded.runbook(resolve_runbook("wave-go-live"))
    early = datetime(2027, 1, 4, 14, tzinfo=UTC)  # the run is started before wave 2's planned start
    pilot = for_run(book, {"wave": 1}, store, acme, early)
    wave2 = for_run(book, {"wave": 2, "start_date": "2027-01-04"}, store, acme, early)  # the plan wins
    go_lives = [date.fromisoformat(g["date"]) for g in got["calendar"]["go_lives"] if g["wave"] == 2]
    assert w2.first_go_live == min(go_lives)
    due_go_live = wave2.day("week 3 day 1")
    assert due_go_live.isocalendar()[:2] == min(go_lives).isocalendar()[:2]  # its first go-live's week
    assert due_go_live != pilot.day("week 3 day 1") and pilot.day("week 3 day 1") < w1.ends_on
    assert wave2.day("week 1 day 1") >= w2.starts_on > w1.ends_on
    assert all(d.weekday() < 5 and d not in acme.holiday_days for d in (wave2.day(f"week {w} day {x}")
                                                                       for w in range(1, 6) for x in range(1, 8)))


def test_a_run_started_after_the_plan_counts_from_its_own_start(store: Any, acme: Organization, tmp_path: Path) -> None:
    record_plan(store, acme, tmp_path)
    w3 = repository.phases(store)["wave-3"]
    book = loaded.runbook(resolve_runbook("wave-go-live"))
    # 03:00 UTC is still the evening before in Chicago: the run's day is read in the org's zone
    late = datetime.combine(w3.starts_on + timedelta(days=19), time(3, 0), tzinfo=UTC)
    c = for_run(book, {"wave": 3}, store, acme, late)
    run_day = w3.starts_on + timedelta(days=18)
    assert c.start == run_day and "started later" in c.source
    assert min(c.day(f"week {w} day {d}") for w in range(1, 5) for d in range(1, 8)) >= run_day


def test_without_a_stored_plan_the_runs_start_date_and_the_waves_weeks(store: Any, acme: Organization) -> None:
    book = loaded.runbook(resolve_runbook("wave-go-live"))
    c = for_run(book, {"wave": 2, "start_date": "2027-03-01"}, store, acme, datetime(2027, 2, 1, 15, tzinfo=UTC))
    assert c.start == date(2027, 3, 1) and c.weeks[:3] == (1, 3, 4) and "no stored plan" in c.source
    other = loaded.runbook(resolve_runbook("pre-implementation"))  # due dates from the run start
    plain = for_run(other, {"wave": 2}, store, acme, datetime(2027, 2, 1, 15, tzinfo=UTC))
    assert plain.start == date(2027, 2, 1) and plain.weeks == ()


def test_bad_phases_are_refused(store: Any, acme: Organization, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="phases end before they start: wave-1"):
        K["program.plan"](ctx(store, acme, tmp_path), {"waves": {}, "phases": [
            {"phase": "wave-1", "wave": 1, "starts_on": "2027-02-01", "ends_on": "2027-01-01"}]})
    with pytest.raises(UserInputError, match="YYYY-MM-DD"):
        K["program.plan"](ctx(store, acme, tmp_path), {"waves": {}, "phases": [{"phase": "wave-1"}]})
    assert repository.phases(store) == {}


def test_a_run_records_every_steps_due_day_at_its_start(store: Any, acme: Organization, tmp_path: Path) -> None:
    # What `run.start` carries (flows/engine/entry.py): the board and the overdue reminders read it
    # for steps that have not started yet.
    from golive.flows.engine.entry import planned_dues

    record_plan(store, acme, tmp_path)
    book = loaded.runbook(resolve_runbook("wave-go-live"))
    calendar = for_run(book, {"wave": 2}, store, acme, datetime(2027, 1, 4, 14, tzinfo=UTC))
    dues = planned_dues(book, calendar)["dues"]
    with_due = [s for s in book.steps if s.due]
    assert [d["step"] for d in dues] == [s.id for s in with_due] and len(dues) > 5
    slots = next(d for d in dues if d["step"] == "go-live-slots")
    assert slots == {"step": "go-live-slots", "owner": "Regional Manager",
                     "due": calendar.day("week 3 day 1").isoformat()}
    assert planned_dues(book, None) == {}
