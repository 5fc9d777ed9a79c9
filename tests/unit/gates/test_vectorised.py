"""The vectorised gate agrees with a straightforward per-location loop (plain Python, scipy.stats
and pymannkendall one location at a time) on every location of every criterion."""

from __future__ import annotations

import importlib.util

from golive.tasks.foundation.paths import ROOT
from golive.tasks.gates.criteria import parse_spec
from golive.tasks.gates.evaluate import evaluate

# bench/ is not an installed package; load the benchmark module (and its loop baseline) by path.
_spec = importlib.util.spec_from_file_location("bench_gates", ROOT / "bench" / "gates.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_vectorised_equals_per_location_loop() -> None:
    obs = bench.observations(seed=3, locations=12)
    spec = parse_spec(bench.criteria(), periods=bench.PERIODS, name="check")
    fast = {c.id: {r.location: r.status.value for r in c.results} for c in evaluate(spec, obs).criteria}
    slow = bench.loop_evaluate(spec, obs)
    assert slow == {cid: {loc: fast[cid][loc] for loc in per} for cid, per in slow.items()}
    statuses = {s for per in slow.values() for s in per.values()}
    assert {"pass", "fail"} <= statuses  # the fixture exercises both outcomes
