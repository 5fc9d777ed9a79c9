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
