"""`make scale-test`: start the topology, deploy, put load on it, disturb it, report, stop it.

    python deploy/scale_test.py [--runs 100] [--locations 50] [--workers 2] [--limit 2]
                                [--stop-api-at 15] [--kill-worker-at 0] [--compare-workers]

Load (deploy/program_load.py): the program's own runs on a generated group of `--locations`
locations, against the simulators: one integration validation (its PMS part) per location, metric
writes sharing locations (`simulate-metrics`), and the rollback-trigger gate (`rollback-watch`).
Disturbances: one API server is stopped (SIGTERM) `--stop-api-at` seconds into the load (the
workers must carry on through nginx); with `--kill-worker-at`, worker 2's process is SIGKILLed
(its flow-run subprocesses are left running, as when a worker host loses only the worker), and
from then on `golive runs reconcile --rerun` runs every 10 s, as the `golive-reconcile` deployment
would: runs the dead worker had claimed but not started go back to the pool, crashed ones are
started again under their run key. Afterwards the store must agree with Prefect on every run.
`--compare-workers`: the same load, undisturbed, on a 1-worker cluster, then on a 2-worker one;
reports the throughput ratio (2 workers / 1 worker).
Reported (JSON): wall time, throughput, final states, runs per worker and the fairness bound
(±25% of an even split), 502/503s served by nginx, and duplicated effects in the store (metric
keys, validations per location).
Exit status 1 when a run did not complete or an effect was duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster  # noqa: E402 - the sibling script
import load  # noqa: E402
import program_load  # noqa: E402

TERMINAL = load.TERMINAL


def reconcile(env: dict[str, str]) -> dict[str, Any]:
    """One `golive runs reconcile --rerun` pass against the cluster (the scheduled deployment's job).
    Workers heart-beat every 30 s: the old --worker-timeout of 45 s let one late heartbeat make a
    live worker count as dead; 90 s is three heartbeats."""
    done = subprocess.run([str(cluster.BIN / "golive"), "runs", "reconcile", "--rerun", "--stale", "20",
                           "--worker-timeout", "90", "--json"], env=env, cwd=cluster.ROOT, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return dict(json.loads(done.stdout))


def store_agrees(env: dict[str, str], final: dict[str, str]) -> list[str]:
    """Runs whose store state disagrees with Prefect's final state (flow run id → Prefect state type)."""
    want = {"COMPLETED": "completed", "CRASHED": "crashed", "FAILED": "failed", "CANCELLED": "cancelled"}
    done = subprocess.run([str(cluster.BIN / "golive"), "runs"], env=env, cwd=cluster.ROOT, capture_output=True,
                          text=True, timeout=120)
    wrong = []
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[-1] in final and want.get(final[parts[-1]]) not in (None, parts[2]):
            wrong.append(f"{parts[-1]}: store {parts[2]}, Prefect {final[parts[-1]]}")
    return wrong


async def run_load(params: list[tuple[str, dict[str, Any]]], disturb: list[tuple[float, str]], timeout: float) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    state = cluster.load()
    assert state is not None
    start = time.monotonic()
    ids = [(await run_deployment(name, parameters=p, timeout=0)).id  # type: ignore[misc]
           for name, p in params]
    done_events: list[str] = []
    pending = sorted(disturb)
    killed_at: float | None = None
    last_reconcile = 0.0
    passes: list[dict[str, Any]] = []
    env = cluster.worker_env(state)
    async with get_client() as client:
        while True:
            now = time.monotonic() - start
            while pending and pending[0][0] <= now:
                _at, what = pending.pop(0)
                done_events.append(f"{what} at {now:.1f} s")
                if what == "stop api-1":
                    os.killpg(state["pids"]["api-1"], signal.SIGTERM)
                elif what == "kill worker-2":
                    os.kill(state["pids"]["worker-2"], signal.SIGKILL)  # the worker only, not its runs
                    killed_at = now
            if killed_at is not None and now - last_reconcile >= 10:
                last_reconcile = now
                report = await asyncio.to_thread(reconcile, env)
                passes.append(report)
                ids += [uuid.UUID(new) for new in report.get("rerun", {}).values()]
            runs = [await client.read_flow_run(i) for i in ids]
            if all(r.state and r.state.type.value in TERMINAL for r in runs) or now > timeout:
                break
            await asyncio.sleep(2)
    wall = time.monotonic() - start
    split = load.per_worker([str(i) for i in ids])
    fair = len(ids) / max(1, state["workers"])
    return {
        "runs": len(ids),
        "wall_s": round(wall, 1),
        "runs_per_min": round(len(ids) / wall * 60, 1),
        "states": dict(Counter(r.state.type.value if r.state else "NONE" for r in runs)),
        "per_worker": split,
        "fair_share": fair,
        "within_25pct_of_fair": all(abs(n - fair) <= 0.25 * fair for n in split.values()) and len(split) == state["workers"],
        "disturbances": done_events,
        "reconcile": {k: sum(len(p.get(k, [])) for p in passes) for k in ("rescheduled", "crashed", "rerun")},
        # What each pass changed (passes that changed nothing left out), to tell why a run crashed.
        "reconcile_passes": [p for p in passes if any(v for k, v in p.items() if k != "unknown")],
        "store_disagrees": store_agrees(env, {str(r.id): r.state.type.value for r in runs if r.state}),
    }


@contextlib.contextmanager
def on_cluster(env: dict[str, str]) -> Iterator[None]:
    """Talk to this cluster's API. Prefect reads PREFECT_API_URL into its settings once per process,
    so the second cluster of `--compare-workers` (new ports) needs it set as settings: with the
    environment alone, its load went to the first cluster's stopped proxy (ConnectError)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
    os.environ["PREFECT_HOME"] = env["PREFECT_HOME"]
    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"], PREFECT_HOME: env["PREFECT_HOME"]}):
        yield


def nginx_errors() -> int:
    log = cluster.STATE / "nginx-access.log"
    return sum(1 for line in log.read_text().splitlines() if '" 502 ' in line or '" 503 ' in line or '" 504 ' in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--locations", type=int, default=50, help="size of the generated group")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=2)
    parser.add_argument("--stop-api-at", type=float, default=15.0)
    parser.add_argument("--kill-worker-at", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="leave the cluster up afterwards")
    parser.add_argument("--compare-workers", action="store_true", help="1 worker, then 2: the throughput ratio")
    args = parser.parse_args()
    if args.runs < 2 or args.locations < 2:
        parser.error("--runs and --locations must be at least 2")
    if cluster.load() is not None:
        raise SystemExit(f"a cluster is already up (state in {cluster.STATE}); run `make cluster-down` first")
    if args.compare_workers:
        compare(args)
        return
    disturb = []
    if args.stop_api_at > 0:
        disturb.append((args.stop_api_at, "stop api-1"))
    if args.kill_worker_at > 0:
        disturb.append((args.kill_worker_at, "kill worker-2"))
    report = one_load(args, args.workers, disturb)
    print(json.dumps(report, indent=2))
    states = report["states"]
    # Every run completes, or crashed with its worker and was started again (and that one completed).
    ok = (states.get("COMPLETED", 0) == args.runs and states.get("CRASHED", 0) == report["reconcile"]["rerun"]
          and set(states) <= {"COMPLETED", "CRASHED"} and not any(report["duplicated_effects"].values())
          and not report["store_disagrees"] and report["validations_passed"] == report["validations_expected"])
    sys.exit(0 if ok else 1)


def one_load(args: argparse.Namespace, workers: int, disturb: list[tuple[float, str]]) -> dict[str, Any]:
    """Generate the group, start the simulator and a fresh cluster with `workers`, deploy, run the
    load with its disturbances, report, stop everything (unless --keep)."""
    prepared = program_load.prepare(args.locations)
    try:
        state = cluster.up(workers, args.limit)
        try:
            env = cluster.worker_env(state)
            plan = program_load.runs(prepared, args.runs)
            with on_cluster(env):
                program_load.deploy(env)
                report = asyncio.run(run_load(plan, disturb, args.timeout))
            report["load"] = dict(Counter(name.split("/")[1] for name, _p in plan))
            report["nginx_5xx"] = nginx_errors()
            report["duplicated_effects"] = program_load.duplicated_effects()
            report["validations_passed"] = program_load.validated()
            report["validations_expected"] = report["load"].get("pms-validation", 0)
            return report
        finally:
            if not args.keep:
                cluster.down()
    finally:
        prepared.stop()


def compare(args: argparse.Namespace) -> None:
    one = one_load(args, 1, [])
    two = one_load(args, 2, [])
    ratio = two["runs_per_min"] / one["runs_per_min"] if one["runs_per_min"] else float("nan")
    print(json.dumps({"runs": args.runs, "limit_per_worker": args.limit, "one_worker": one, "two_workers": two,
                      "throughput_ratio_2_over_1": round(ratio, 2)}, indent=2))
    sys.exit(0 if one["states"] == {"COMPLETED": args.runs} and two["states"] == {"COMPLETED": args.runs} else 1)


if __name__ == "__main__":
    main()
