"""Rehearsal benchmark: `golive rehearse` of a generated 50-location group (outage scenario) on its
own home, one Prefect server, up to 28 simulated weeks. Goal: under 3 minutes on 2 cores.

Figures, all from the same rehearsal:
- wall time and simulated days per second;
- ratio of the wall time against the named baseline "its runbook runs alone" (the summed wall time
  of the same rehearsal's runs through the engine): what the simulated clock, the daily invariant
  checks and the outputs add on top of the engine;
- one simulated day's invariant check (9 invariants) against reading the program's events alone,
  on the finished store, interleaved, median and spread.
A rehearsal takes minutes, so the rehearsal itself is run once (n=1, said in the line); it runs in
a child process because it owns its home and its Prefect server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import Samples, interleaved, ratio_line

LOCATIONS = 50
SEED = 50
SCENARIO = "outage"
GOAL_S = 180.0


def main() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="golive-bench-rehearse-") as tmp:
        env = {**os.environ, "GOLIVE_OUT": tmp}
        env.pop("PREFECT_API_URL", None)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "golive.flows.cli.main", "rehearse", "--generate", str(LOCATIONS),
                               "--seed", str(SEED), "--scenario", SCENARIO], env=env, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - started
        summary_file = Path(tmp) / "rehearsal" / str(SEED) / "summary.json"
        if not summary_file.exists():
            raise RuntimeError(f"rehearsal wrote no summary (exit {proc.returncode}): {proc.stderr[-800:]}")
        s = json.loads(summary_file.read_text(encoding="utf-8"))
        lines = [
            f"rehearsal of {LOCATIONS} locations ({SCENARIO}, seed {SEED}): {s['simulated_days']} simulated days "
            f"({s['weeks']} weeks to full deployment, playbook {s['playbook_weeks']}), {s['runs']} runbook runs; "
            f"wall {wall:.1f} s with start-up (goal < {GOAL_S:.0f} s: {'met' if wall < GOAL_S else 'NOT met'}), "
            f"{s['simulated_days'] / s['wall_s']:.2f} simulated days/s; exit {proc.returncode}, invariants "
            f"{'hold' if s['invariants_ok'] else 'BROKEN'}, wave 3's gate "
            f"{'confirmed it on ' + s['confirmed_on'] if s.get('confirmed_on') else 'did NOT confirm it'}",
            ratio_line("rehearsal wall time (n=1)", Samples((s["wall_s"],)),
                       "its runbook runs alone (same rehearsal)", Samples((s["runs_s"],))),
            _check_line(Path(tmp) / "rehearsal" / str(SEED) / "home"),
        ]
        lines += [f"run not as expected: {f}" for f in s["failed_runs"]]  # why an exit is 1
    return lines


def _check_line(home: Path) -> str:
    os.environ["GOLIVE_HOME"] = str(home / ".golive")
    from datetime import date

    from golive.tasks.program import invariants, repository
    from golive.tasks.store import Store

    store = Store.open()
    try:
        ours, base = interleaved(lambda: invariants.check(store, today=date(2027, 7, 1)),
                                 lambda: repository.events(store), repeat=5)
    finally:
        store.dispose()
        os.environ.pop("GOLIVE_HOME", None)
    return ratio_line("one simulated day's invariant check (9 invariants, finished store)", ours,
                      "reading the program's events alone", base)
