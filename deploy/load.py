"""Trigger deployment runs on the running cluster and report what happened (deploy/cluster.py up first).

    python deploy/load.py simulate --runs 8 --locations lakeview-implant,harbor-point

Every run is a `simulate-metrics` deployment run writing one or two locations' daily metrics to
the shared store; runs sharing a location take its concurrency slot in turn. Reported: wall time,
throughput, final states, the split of runs per worker (from each flow run's worker name), and
the store's duplicate check on (location, metric, day, source).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

STATE = Path(os.environ.get("GOLIVE_HOME", Path(__file__).resolve().parent.parent / ".golive")) / "cluster"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


async def trigger_and_wait(runs: int, locations: list[str], timeout: float) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    start = time.monotonic()
    ids = []
    for i in range(runs):
        locs = [locations[i % len(locations)]] if i % 2 else locations  # half share every location
        run = await run_deployment("simulate-metrics/simulate-metrics", parameters={"locations": locs},
                                   timeout=0)  # type: ignore[misc]
        ids.append(run.id)
    async with get_client() as client:
        while True:
            states = [await client.read_flow_run(i) for i in ids]
            if all(r.state and r.state.type.value in TERMINAL for r in states):
                break
            if time.monotonic() - start > timeout:
                break
            await asyncio.sleep(2)
    wall = time.monotonic() - start
    return {
        "runs": runs,
        "wall_s": round(wall, 1),
        "runs_per_min": round(runs / wall * 60, 1),
        "states": dict(Counter(r.state.type.value if r.state else "NONE" for r in states)),
        "per_worker": per_worker([str(i) for i in ids]),
    }


def per_worker(ids: list[str]) -> dict[str, int]:
    """Which worker submitted each run, from the workers' own logs ("Worker 'X' submitting flow run 'ID'")."""
    pattern = re.compile(r"Worker '([^']+)' submitting flow run '([0-9a-f-]+)'")
    owner: dict[str, str] = {}
    for log in sorted(STATE.glob("worker-*.log")):
        for match in pattern.finditer(log.read_text(errors="replace")):
            owner[match.group(2)] = match.group(1)
    return dict(Counter(owner.get(i, "unknown") for i in ids))


def store_count(sql: str) -> int:
    """One count from the cluster's golive store (its PostgreSQL database)."""
    import psycopg

    state = json.loads((STATE / "state.json").read_text())
    admin = os.environ.get("GOLIVE_CLUSTER_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(admin.rsplit("/", 1)[0] + "/" + state["store_db"]) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def duplicates() -> int:
    """Metric keys (location, metric, day, source) stored more than once."""
    return store_count("SELECT count(*) FROM (SELECT 1 FROM gate_daily_metrics GROUP BY location_id, metric, "
                       "day, source HAVING count(*) > 1) d")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["simulate"])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--locations", default="lakeview-implant,harbor-point")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    state = json.loads((STATE / "state.json").read_text())
    os.environ["PREFECT_API_URL"] = f"{state['proxy']}/api"
    report = asyncio.run(trigger_and_wait(args.runs, args.locations.split(","), args.timeout))
    report["duplicate_metric_keys"] = duplicates()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
