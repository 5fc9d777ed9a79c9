"""Planning benchmark: score, plan and schedule generated groups (goal: 500 locations < 2 s).

Baselines measured in the same run:
- the same pipeline on a 50-location group (a 10× smaller input; a linear pipeline shows ~10×),
- loading and validating the 500-location organization YAML (what any run pays before planning).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

GOAL_S = 2.0
START = date(2027, 1, 4)


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _pipeline(org: Any) -> dict[str, float]:
    from golive.tasks.planning.calendar import build_calendar
    from golive.tasks.planning.readiness import score_organization
    from golive.tasks.planning.waves import plan_waves

    t0 = time.perf_counter()
    scores = score_organization(org)
    t1 = time.perf_counter()
    plan = plan_waves(org, scores)
    t2 = time.perf_counter()
    build_calendar(org, plan, START)
    t3 = time.perf_counter()
    return {"score": t1 - t0, "plan": t2 - t1, "schedule": t3 - t2, "total": t3 - t0}


def _measure(org: Any, repeat: int = 3) -> dict[str, float]:
    runs = [_pipeline(org) for _ in range(repeat)]
    return min(runs, key=lambda r: r["total"])


def main() -> list[str]:
    from golive.tasks.planning.generator import generate_organization, write_organization
    from golive.tasks.planning.organization import load_organization

    small = _measure(generate_organization(50, seed=11))
    big_org = generate_organization(500, seed=11)
    big = _measure(big_org)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_organization(Path(tmp) / "org500.yaml", 500, seed=11)
        load_s, _ = _best(lambda: load_organization(path), repeat=2)

    def fmt(r: dict[str, float]) -> str:
        return ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r.items())

    verdict = "meets" if big["total"] < GOAL_S else "MISSES"
    return [
        f"score+plan+schedule 50 locations: {fmt(small)}",
        f"score+plan+schedule 500 locations: {fmt(big)} ({verdict} the < {GOAL_S:g} s goal; "
        f"{big['total'] / GOAL_S:.2f}× the goal)",
        f"500 vs 50 locations (baseline: the same pipeline on 50): {big['total'] / small['total']:.1f}× "
        f"the time for 10× the locations",
        f"500 locations planned vs loading+validating their YAML (baseline, {load_s * 1000:.0f} ms): "
        f"{big['total'] / load_s:.2f}×",
    ]


if __name__ == "__main__":
    for line in main():
        print(line)
