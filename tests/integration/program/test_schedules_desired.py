"""What `golive schedule sync` wants for a wave's gate, on a real store: the wave's locations that
are neither deferred nor rolled back (a rolled-back location waits for a later wave; its outage
must not hold the rest of its wave at NO-GO)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from golive.tasks.program import repository
from golive.tasks.program.lifecycle import State
from golive.tasks.program.schedules import desired

pytestmark = pytest.mark.integration
WAVE2 = ["downtown-metro", "suburban-west", "harbor-point"]


def test_a_rolled_back_location_leaves_its_waves_gate(store: Any) -> None:
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    day = date(2027, 3, 15)
    for to in (State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN, State.LIVE):
        repository.apply(store, [repository.Change(loc, to, 2, day) for loc in WAVE2], run_id="r", step_key=to.value)

    def gate() -> Any:
        return next(d for d in desired(store, "America/Denver", day) if d.slug == "golive-plan-wave2-gate")

    assert gate().parameters["locations"] == sorted(WAVE2) and gate().active
    repository.apply(store, [repository.Change("suburban-west", State.ROLLED_BACK, None, date(2027, 3, 29))],
                     run_id="r", step_key="rollback")
    after = gate()
    assert after.parameters["locations"] == ["downtown-metro", "harbor-point"]
    assert after.anchor == day and after.parameters["pilot_start"] == day.isoformat()  # the wave's own go-live


def test_a_location_rescheduled_into_wave_3_does_not_start_its_gate_early(store: Any) -> None:
    # Rolled back in wave 2, re-scheduled into wave 3: its wave-2 go-live is not wave 3's.
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    path = (State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN, State.LIVE)
    for to in path:
        repository.apply(store, [repository.Change("suburban-west", to, 2, date(2027, 3, 15))], run_id="r",
                         step_key=to.value)
    repository.apply(store, [repository.Change("suburban-west", State.ROLLED_BACK, None, date(2027, 3, 29))],
                     run_id="r", step_key="rollback")
    for to in path:
        repository.apply(store, [repository.Change(loc, to, 3, date(2027, 5, 3)) for loc in ("suburban-west",
                                                                                          "downtown-metro")],
                         run_id="r", step_key=f"w3-{to.value}")
    gate = next(d for d in desired(store, "America/Denver", date(2027, 5, 3)) if d.slug == "golive-plan-wave3-gate")
    assert gate.anchor == date(2027, 5, 3) and gate.parameters["pilot_start"] == "2027-05-03"
    assert gate.parameters["locations"] == ["downtown-metro", "suburban-west"]


def _wave2_live(store: Any, day: date) -> None:
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    for to in (State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN, State.LIVE):
        repository.apply(store, [repository.Change(loc, to, 2, day) for loc in WAVE2], run_id="r", step_key=to.value)


def test_a_recorded_decision_to_proceed_pauses_the_gate_as_a_go_does(store: Any) -> None:
    day = date(2027, 3, 15)
    _wave2_live(store, day)

    def gate() -> Any:
        return next(d for d in desired(store, "America/Denver", day) if d.slug == "golive-plan-wave2-gate")

    # An approval elsewhere (another runbook's `decide`, or this gate's other approvals) changes nothing.
    store.start_run(run_id="w1", run_key="w1", runbook="go-no-go-wave1", parameters={})
    store.record_approval(run_id="w1", step_key="decide", decision="approve", name="Dana", role="COO")
    store.start_run(run_id="g1", run_key="g1", runbook="go-no-go-wave2", parameters={})
    store.record_approval(run_id="g1", step_key="decide", decision="reject", name="Dana", role="COO",
                          comment="not on this data")
    assert gate().active
    # The COO proceeds on the inconclusive verdict: the wave is decided; the gate does not ask again.
    store.start_run(run_id="g2", run_key="g2", runbook="go-no-go-wave2", parameters={})
    store.record_approval(run_id="g2", step_key="decide", decision="approve", name="Dana", role="COO",
                          comment="Proceed: data volume only")
    paused = gate()
    assert not paused.active
    assert "COO decided to proceed" in paused.why and "g2" in paused.why and "paused" in paused.why
    wave1 = next((d for d in desired(store, "America/Denver", day) if d.slug == "golive-plan-wave1-gate"), None)
    assert wave1 is None  # wave 1 has no location here: no schedule, whatever was approved


def test_wave_3s_gate_judges_each_location_from_its_own_go_live(store: Any) -> None:
    # Wave 3 goes live 5 a week: here two locations on 2027-05-03, one on 2027-05-24 and one still
    # only scheduled. The gate gets each go-live; its period closes 4 weeks after the LAST so far.
    store.start_run(run_id="r", run_key="k", runbook="wave-go-live", parameters={})
    path = (State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN, State.LIVE)
    first, later = date(2027, 5, 3), date(2027, 5, 24)
    for to in path:
        repository.apply(store, [repository.Change(loc, to, 3, first) for loc in ("a-1", "a-2")], run_id="r",
                         step_key=f"a-{to.value}")
    for to in path:
        repository.apply(store, [repository.Change("b-1", to, 3, later)], run_id="r", step_key=f"b-{to.value}")
    repository.apply(store, [repository.Change("c-1", State.SCHEDULED, 3, first)], run_id="r", step_key="c")
    gate = next(d for d in desired(store, "America/Denver", later) if d.slug == "golive-plan-wave3-gate")
    assert gate.anchor == first and gate.active
    p = gate.parameters
    assert p["locations"] == ["a-1", "a-2", "b-1", "c-1"]  # c-1 is scheduled: the gate waits for it
    assert p["go_lives"] == {"a-1": "2027-05-03", "a-2": "2027-05-03", "b-1": "2027-05-24"}
    assert p["pilot_start"] == "2027-05-03" and p["pilot_end"] == "2027-06-20"  # 2027-05-24 + 27 days
