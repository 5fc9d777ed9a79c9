"""A run's day on the program's timeline (flows/engine/timeline.py), on a real store holding the
example group's plan from a rollout starting Monday 2 March 2026, while the real clock reads late
November 2026 (after the whole plan, as in the demo): documents and due dates follow the plan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from golive.flows.engine import loaded
from golive.flows.engine.dues import for_run as dues_for
from golive.flows.engine.timeline import for_run
from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import resolve_runbook
from golive.tasks.planning import kinds as planning
from golive.tasks.planning.organization import Organization
from golive.tasks.program import repository
from golive.tasks.program.kinds import KINDS

pytestmark = pytest.mark.integration
START = "2026-03-02"
LATE = datetime(2026, 11, 30, 15, tzinfo=UTC)  # the wall clock, months after the plan ended
K = {k.name: k.run for k in KINDS}


def book(name: str) -> Any:
    return loaded.runbook(resolve_runbook(name))


def record_plan(store: Any, org: Organization, tmp_path: Path) -> dict[str, Any]:
    store.start_run(run_id="plan-run", run_key="k", runbook="readiness-assessment", parameters={})
    c = StepContext(run_id="plan-run", run_key="k", runbook="readiness-assessment", step_id="s", step_key="s",
                    store=store, org=org, out_dir=tmp_path, artifacts=NullArtifacts(), run_started=LATE,
                    audit=lambda event, data: store.audit.append(event, data, run_id="plan-run"))
    waves = planning.run_waves(c, {})
    calendar = planning.run_calendar(c, {"start": START, "waves": waves["waves"]})
    for n, ids in waves["waves"].items():
        if len(ids) > 8:  # the example's 12-site wave 2 needs its recorded decision
            repository.record_override(store, guard="wave-size", subject=f"wave {n}", wave=int(n), detail="",
                                       name="Alex Kim", role="COO", reason="test", run_id="plan-run", step_key="o")
    K["program.plan"](c, {"waves": waves["waves"], "deferred": waves["deferred"], "start": START,
                          "phases": calendar["plan_phases"]})
    return waves


def test_runs_after_the_plan_are_dated_on_it(store: Any, acme: Organization, tmp_path: Path) -> None:
    waves = record_plan(store, acme, tmp_path)
    phases = repository.phases(store)
    pre = phases["pre-implementation"]
    assert pre.starts_on == date(2026, 3, 2)
    # pre-implementation and security-compliance: the pre-implementation phase's first day
    for name in ("pre-implementation", "security-compliance"):
        t = for_run(book(name), {}, store, acme, LATE)
        assert t.day == pre.starts_on and "pre-implementation" in t.source
        calendar = dues_for(book(name), {}, store, acme, LATE, t.day)
        due = calendar.day("week 1 day 3")
        assert due >= t.day and due.weekday() < 5 and due <= pre.ends_on
    # the readiness assessment is dated from the rollout start it plans, not from `as_of`
    t = for_run(book("readiness-assessment"), {"start": START, "as_of": "2026-03-09"}, store, acme, LATE)
    assert t.day == date(2026, 3, 2) and "start" in t.source
    # integration validation of a planned location: its wave's first day
    located = {loc: int(n) for n, ids in waves["waves"].items() for loc in ids}
    loc, wave = next(iter(located.items()))
    t = for_run(book("integration-validation"), {"location": loc}, store, acme, LATE)
    assert t.day == phases[f"wave-{wave}"].starts_on
    # wave-go-live for wave 1: the wave's plan, and its due dates with it (not the wall clock's weeks)
    t = for_run(book("wave-go-live"), {"wave": 1}, store, acme, LATE)
    assert t.day == phases["wave-1"].starts_on
    calendar = dues_for(book("wave-go-live"), {"wave": 1}, store, acme, LATE, t.day)
    assert phases["wave-1"].starts_on <= calendar.day("week 3 day 1") <= phases["wave-1"].ends_on


def test_inside_its_phase_a_run_keeps_its_own_day_and_an_explicit_day_wins(store: Any, acme: Organization,
                                                                          tmp_path: Path) -> None:
    record_plan(store, acme, tmp_path)
    inside = datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert for_run(book("pre-implementation"), {}, store, acme, inside).day == date(2026, 3, 10)
    explicit = for_run(book("pre-implementation"), {"as_of": "2026-03-04"}, store, acme, LATE)
    assert explicit.day == date(2026, 3, 4) and "as_of" in explicit.source
    with pytest.raises(UserInputError, match="parameter 'as_of': not a date"):
        for_run(book("pre-implementation"), {"as_of": "next monday"}, store, acme, LATE)


def test_without_a_plan_the_run_start_day(store: Any, acme: Organization) -> None:
    t = for_run(book("security-compliance"), {}, store, acme, LATE)
    assert t.day == date(2026, 11, 30) and t.source == "run start"
