"""Program benchmark: 50 wave-3 locations taken through the whole lifecycle (scheduled ->
stabilised) by `program.transition`, one step per phase with the state machine, the guards
(previous wave's GO, integration validation) and go-live slots (5 a week in wave 3), against the
plain per-location status write the engine had before (`gates.repository.set_rollout`, the same
7 phases) on the same kind of fresh SQLite store, measured interleaved."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.timing import Samples, ratio_line, timed
from golive.tasks.context import StepContext
from golive.tasks.gates import repository as gates
from golive.tasks.gates.records import GateVerdictRow
from golive.tasks.program import repository
from golive.tasks.program.kinds import KINDS
from golive.tasks.store import Store

N = 50
ROUNDS = 5
PHASES = ("scheduled", "configuring", "training", "parallel_run", "live", "stabilised")
LOCS = [f"loc-{i:03d}" for i in range(N)]
TRANSITION = next(k.run for k in KINDS if k.name == "program.transition")


def _fresh(tmp: Path, name: str) -> Store:
    store = Store.open(f"sqlite:///{tmp / name}.db", audit_key="bench-key")
    store.start_run(run_id="bench", run_key="bench", runbook="bench", parameters={})
    with store.session() as s:
        s.add(GateVerdictRow(gate="go-no-go-wave2", runbook="b", run_id="b", step_key="gate", wave="2",
                             as_of=date(2026, 8, 1), verdict="go", score=1.0, evidence={}, decided_at=datetime.now(UTC)))
    for loc in LOCS:
        repository.record_validation(store, location=loc, passed=True, evidence=None, run_id="bench")
    return store


def ours(store: Store) -> Callable[[], object]:
    def audit(event: str, data: Any) -> None:
        store.audit.append(event, data, run_id="bench")

    def run() -> None:
        for phase in PHASES:
            ctx = StepContext(run_id="bench", run_key="bench", runbook="wave-go-live", step_id=phase, step_key=phase,
                              store=store, run_started=datetime(2026, 9, 7, 9, tzinfo=UTC),
                              audit=audit)
            TRANSITION(ctx, {"locations": LOCS, "to": phase, "wave": 3})
    return run


def baseline(store: Store) -> Callable[[], object]:
    def run() -> None:
        for phase in ("planned", *PHASES):
            for loc in LOCS:
                gates.set_rollout(store, loc, status=phase, workflow="platform", wave="3")
    return run


def main() -> list[str]:
    a, b = [], []
    spread: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="golive-bench-program-") as tmp:
        for r in range(ROUNDS + 1):  # round 0 warms up
            s1, s2 = _fresh(Path(tmp), f"ours{r}"), _fresh(Path(tmp), f"base{r}")
            try:
                t1, t2 = timed(ours(s1)), timed(baseline(s2))
                if r:
                    a.append(t1)
                    b.append(t2)
                else:
                    days = sorted({w.go_live_on for w in repository.locations(s1).values() if w.go_live_on})
                    spread = {"days": len(days), "first": days[0], "last": days[-1]}
            finally:
                s1.dispose()
                s2.dispose()
    return [ratio_line(f"{N} locations through 6 guarded lifecycle steps (go-lives spread over {spread['days']} "
                       f"days, {spread['first']} to {spread['last']}: 5 a week in wave 3)", Samples(tuple(a)),
                       "plain per-location status writes, 7 phases", Samples(tuple(b)))]
