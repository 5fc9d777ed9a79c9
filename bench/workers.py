"""One worker against two (issue 18): the scale test's program load (deploy/program_load.py: PMS
validations against the simulator, metric writes, the rollback-trigger gate) on a fresh `make
cluster` topology with one process worker, then on one with two, `--limit 2` each, undisturbed.

The baseline is the 1-worker cluster, measured in the same run. Each leg is one load of
`GOLIVE_BENCH_WORKER_RUNS` runs (100 by default; about 16 minutes for both legs on 2 cores), so the
figure is n=1 per leg: a whole load, not a median of repeats. On 2 cores a second worker adds run
slots, not CPU: the ratio says how much of a run is waiting (on Prefect, the store, the PMS).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> Iterator[str]:
    missing = [tool for tool in ("nginx", "redis-server") if shutil.which(tool) is None]
    try:
        import prefect_redis  # noqa: F401 - the cluster's messaging
    except ModuleNotFoundError:
        missing.append("prefect-redis (pip install -e '.[cluster]')")
    if missing:
        yield f"not measured: the cluster needs {', '.join(missing)}"
        return
    runs = int(os.environ.get("GOLIVE_BENCH_WORKER_RUNS", "100"))
    done = subprocess.run([sys.executable, str(ROOT / "deploy" / "scale_test.py"), "--compare-workers", "--runs",
                           str(runs), "--locations", str(max(2, runs // 2))], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600, check=False)
    text = done.stdout
    if "{" not in text:
        raise RuntimeError(f"scale_test.py --compare-workers printed no report (exit {done.returncode}): "
                           f"{done.stderr.strip()[-400:]}")
    report = json.loads(text[text.index("{"):])
    for name in ("one_worker", "two_workers"):
        leg = report[name]
        split = "/".join(str(n) for n in sorted(leg["per_worker"].values(), reverse=True))
        yield (f"{name.replace('_', ' ')}: {leg['runs']} runs in {leg['wall_s']} s, {leg['runs_per_min']} runs/min, "
               f"states {leg['states']}, split {split}, duplicated effects {sum(leg['duplicated_effects'].values())}")
    yield (f"ratio 2 workers / 1 worker (baseline: 1 worker, same run, n=1 per leg): "
           f"{report['throughput_ratio_2_over_1']:.2f}x throughput")
    if done.returncode != 0:
        raise RuntimeError("a leg did not complete every run (see the states above)")
