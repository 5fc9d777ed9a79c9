"""Gate benchmark: every criterion over 500 locations × 365 days × 20 metrics (goal < 1 s), against a
straightforward per-location Python loop (plain lists, scipy.stats / pymannkendall per location)
measured in the same run on the same data; the two must agree on every location's status.
"""

from __future__ import annotations

import math
import statistics
import time
from datetime import date
from typing import Any

import numpy as np
import pymannkendall as pmk
from scipy import stats as st

from golive.tasks.gates.criteria import Criterion, GateSpec, Op, Scope, Status, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.gates.observations import MetricSeries, Observations

LOCATIONS, DAYS, START = 500, 365, date(2026, 1, 1)
PERIODS = {"baseline": {"start": "2026-01-01", "end": "2026-03-31"},
           "pilot": {"start": "2026-04-01", "end": "2026-12-31"}}


def criteria() -> list[dict[str, Any]]:
    """20 criteria, one per metric, covering every test and scope."""
    out: list[dict[str, Any]] = []
    for i in range(6):
        out.append({"id": f"thr{i}", "metric": f"m{i:02d}", "test": "threshold", "op": [">", ">=", "<", "<=", ">", ">="][i],
                    "value": [99, 98, 5, 6, 50, 0][i], "aggregate": ["mean", "min", "max", "mean", "median", "last"][i],
                    "window": {"period": "pilot"}, "min_samples": 30})
    out.append({"id": "rate0", "metric": "m06", "test": "threshold", "op": ">", "value": 80, "aggregate": "rate",
                "window": {"last_days": 28}, "min_samples": 14})
    out.append({"id": "rate1", "metric": "m07", "test": "threshold", "op": ">=", "value": 60, "aggregate": "rate",
                "window": {"period": "pilot"}, "min_samples": 14})
    out.append({"id": "nd-prop", "metric": "m08", "test": "no_decrease", "method": "two_proportion",
                "window": {"period": "pilot"}, "baseline": {"period": "baseline"}, "min_samples": 14})
    out.append({"id": "nd-welch", "metric": "m09", "test": "no_decrease", "method": "welch",
                "window": {"period": "pilot"}, "baseline": {"period": "baseline"}, "min_samples": 14})
    out.append({"id": "nd-wave", "metric": "m10", "test": "no_decrease", "scope": "wave",
                "window": {"period": "pilot"}, "baseline": {"period": "baseline"}, "min_samples": 14})
    out.append({"id": "dec-wave", "metric": "m11", "test": "decrease", "scope": "wave", "method": "welch",
                "window": {"period": "pilot"}, "baseline": {"period": "baseline"}, "min_samples": 14})
    for i, m in enumerate(("m12", "m13")):
        out.append({"id": f"trend{i}", "metric": m, "test": "trend", "window": {"last_days": 56}, "min_samples": 28})
    out.append({"id": "trend-wave", "metric": "m14", "test": "trend", "scope": "wave", "combine": "sum",
                "window": {"period": "pilot"}, "min_samples": 28})
    out.append({"id": "cv0", "metric": "m15", "test": "dispersion", "aggregate": "rate", "max_cv": 0.10,
                "window": {"last_days": 28}, "min_samples": 14})
    out.append({"id": "cv1", "metric": "m16", "test": "dispersion", "aggregate": "mean", "max_cv": 0.05,
                "window": {"period": "pilot"}, "min_samples": 14})
    for i, m in enumerate(("m17", "m18", "m19")):
        out.append({"id": f"run{i}", "metric": m, "test": "consecutive", "op": "<", "value": 95,
                    **({"max_days": 2} if i < 2 else {"min_days": 3}), "window": {"period": "pilot"}, "min_samples": 30})
    return out


def observations(seed: int = 7, locations: int = LOCATIONS) -> Observations:
    rng = np.random.default_rng(seed)
    shape = (locations, DAYS)
    metrics: dict[str, MetricSeries] = {}
    for k in range(20):
        name = f"m{k:02d}"
        if k in (6, 7, 8, 15):  # rates with counts
            den = rng.poisson(12, shape).astype(float)
            p = np.clip(rng.normal(0.82 if k != 8 else 0.6, 0.03, (locations, 1)), 0, 1)
            num = rng.binomial(den.astype(int), np.broadcast_to(p, shape)).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                vals = np.where(den > 0, 100 * num / den, np.nan)
            metrics[name] = MetricSeries(vals, num, den)
            continue
        if k in (12, 13, 14):
            vals = rng.poisson(np.maximum(1, 10 - 0.02 * np.arange(DAYS)), shape).astype(float)
        elif k >= 17:
            vals = np.clip(rng.normal(99.5, 1.5, shape), 0, 100)
        else:
            vals = rng.normal(99.3 if k < 6 else 50, 1.0 if k < 6 else 5, shape)
        metrics[name] = MetricSeries(vals)
    # Some missing days, as real exports have.
    for s in metrics.values():
        s.values[rng.random(shape) < 0.02] = np.nan
    return Observations(tuple(f"loc-{i:03d}" for i in range(locations)), START, DAYS, metrics)


# -- the baseline: one location at a time, plain Python and per-location library calls -------------

def _cmp(x: float, op: Op, v: float) -> bool:
    close = abs(x - v) <= 1e-9
    return {Op.GT: x > v and not close, Op.GE: x > v or close, Op.LT: x < v and not close,
            Op.LE: x < v or close, Op.EQ: close}[op]


def _loop_row(crit: Criterion, obs: Observations, spec: GateSpec, row: list[int], as_of: date) -> str:
    first, last = crit.window.resolve(as_of)
    cols = range((first - obs.start).days, (last - obs.start).days + 1)
    s = obs.metrics[crit.metric]

    def vals(rows: list[int], cs: range) -> list[float]:
        return [float(s.values[r, c]) for r in rows for c in cs if not math.isnan(s.values[r, c])]

    if crit.test == "threshold":
        assert crit.op is not None and crit.value is not None
        xs = vals(row, cols)
        if crit.aggregate == "rate":
            assert s.numerator is not None and s.denominator is not None
            n = sum(1 for c in cols if not math.isnan(s.denominator[row[0], c]))
            num = sum(float(s.numerator[row[0], c]) for c in cols if not math.isnan(s.numerator[row[0], c]))
            den = sum(float(s.denominator[row[0], c]) for c in cols if not math.isnan(s.denominator[row[0], c]))
            if n < crit.min_samples or den == 0:
                return "inconclusive"
            return "pass" if _cmp(100 * num / den, crit.op, crit.value) else "fail"
        if len(xs) < crit.min_samples:
            return "inconclusive"
        aggregates: dict[str, Any] = {"mean": statistics.fmean, "min": min, "max": max, "median": statistics.median,
                                      "last": lambda a: a[-1]}
        agg = aggregates[crit.aggregate](xs)
        return "pass" if _cmp(agg, crit.op, crit.value) else "fail"
    if crit.test in ("no_decrease", "decrease"):
        assert crit.baseline is not None
        bf, bl = crit.baseline.window.resolve(last)
        bcols = range((bf - obs.start).days, (bl - obs.start).days + 1)
        cur, base = vals(row, cols), vals(row, bcols)
        if min(len(cur), len(base)) < crit.min_samples:
            return "inconclusive"
        if crit.method == "two_proportion":
            assert s.numerator is not None and s.denominator is not None
            x1 = sum(float(s.numerator[r, c]) for r in row for c in bcols if not math.isnan(s.numerator[r, c]))
            n1 = sum(float(s.denominator[r, c]) for r in row for c in bcols if not math.isnan(s.denominator[r, c]))
            x2 = sum(float(s.numerator[r, c]) for r in row for c in cols if not math.isnan(s.numerator[r, c]))
            n2 = sum(float(s.denominator[r, c]) for r in row for c in cols if not math.isnan(s.denominator[r, c]))
            pool = (x1 + x2) / (n1 + n2)
            z = (x2 / n2 - x1 / n1) / math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
            p = st.norm.cdf(z)
        else:
            p = st.ttest_ind(cur, base, equal_var=False, alternative="less").pvalue
        if crit.test == "no_decrease":
            return "fail" if p < crit.alpha else "pass"
        return "pass" if p < crit.alpha else ("inconclusive" if statistics.fmean(cur) < statistics.fmean(base) else "fail")
    if crit.test == "trend":
        if len(row) > 1:  # wave: combine per day
            series = []
            for c in cols:
                day = [float(s.values[r, c]) for r in row if not math.isnan(s.values[r, c])]
                if day:
                    series.append(sum(day) if crit.combine == "sum" else statistics.fmean(day))
        else:
            series = vals(row, cols)
        if len(series) < max(3, crit.min_samples):
            return "inconclusive"
        res = pmk.original_test(series, alpha=crit.alpha)
        p = st.norm.cdf(res.z) if crit.direction == "decreasing" else st.norm.sf(res.z)
        return "pass" if p < crit.alpha else "fail"
    if crit.test == "consecutive":
        assert crit.op is not None and crit.value is not None
        xs = [float(s.values[row[0], c]) for c in cols]
        if sum(1 for x in xs if not math.isnan(x)) < crit.min_samples:
            return "inconclusive"
        longest = run = 0
        for x in xs:
            run = run + 1 if (not math.isnan(x) and _cmp(x, crit.op, crit.value)) else 0
            longest = max(longest, run)
        if crit.max_days is not None:
            return "pass" if longest <= crit.max_days else "fail"
        assert crit.min_days is not None
        return "pass" if run >= crit.min_days else "fail"
    raise ValueError(crit.test)


def loop_evaluate(spec: GateSpec, obs: Observations) -> dict[str, dict[str, str]]:
    """Status of every (criterion, location) — or (criterion, '(wave)'/'(across)') — one at a time."""
    as_of = spec.as_of or obs.end
    out: dict[str, dict[str, str]] = {}
    for crit in spec.criteria:
        res: dict[str, str] = {}
        if crit.test == "dispersion":
            first, last = crit.window.resolve(as_of)
            cols = range((first - obs.start).days, (last - obs.start).days + 1)
            s = obs.metrics[crit.metric]
            aggs = []
            for r, loc in enumerate(obs.locations):
                n = sum(1 for c in cols if not math.isnan(s.values[r, c]))
                if n < crit.min_samples:
                    res[loc] = "inconclusive"
                    continue
                if crit.aggregate == "rate":
                    assert s.numerator is not None and s.denominator is not None
                    num = sum(float(s.numerator[r, c]) for c in cols if not math.isnan(s.numerator[r, c]))
                    den = sum(float(s.denominator[r, c]) for c in cols if not math.isnan(s.denominator[r, c]))
                    aggs.append(100 * num / den)
                else:
                    aggs.append(statistics.fmean(float(s.values[r, c]) for c in cols if not math.isnan(s.values[r, c])))
                res[loc] = "pass"
            cv = statistics.stdev(aggs) / abs(statistics.fmean(aggs))
            res["(across)"] = "pass" if _cmp(cv, crit.op or Op.LT, crit.max_cv or 0) else "fail"
        elif crit.scope is Scope.WAVE:
            res["(wave)"] = _loop_row(crit, obs, spec, list(range(len(obs.locations))), as_of)
        else:
            for r, loc in enumerate(obs.locations):
                res[loc] = _loop_row(crit, obs, spec, [r], as_of)
        out[crit.id] = res
    return out


def _statuses(verdict: Any) -> dict[str, dict[str, str]]:
    return {c.id: {r.location: r.status.value for r in c.results} for c in verdict.criteria}


def main() -> list[str]:
    obs = observations()
    spec = parse_spec(criteria(), periods=PERIODS, name="bench")
    evaluate(spec, obs)  # warm up imports and caches
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        verdict = evaluate(spec, obs)
        runs.append(time.perf_counter() - t0)
    vec = min(runs)
    t0 = time.perf_counter()
    looped = loop_evaluate(spec, obs)
    loop = time.perf_counter() - t0
    vectorised = _statuses(verdict)
    cells = sum(len(v) for v in looped.values())
    disagree = sum(1 for cid, per in looped.items() for loc, st_ in per.items() if vectorised[cid].get(loc) != st_)
    counts = {s.value: sum(1 for per in vectorised.values() for v in per.values() if v == s.value) for s in Status}
    return [
        f"gate: {LOCATIONS} locations x {DAYS} days x 20 metrics, {len(spec.criteria)} criteria: "
        f"vectorised {vec * 1000:.0f} ms (goal < 1000 ms, best of 3)",
        f"gate: per-location Python loop (scipy/pymannkendall per location) {loop * 1000:.0f} ms; "
        f"ratio loop/vectorised = {loop / vec:.1f}x",
        f"gate: {cells} location results, {disagree} disagreements between the two; "
        f"statuses {counts}; verdict {verdict.decision.value}",
    ]


if __name__ == "__main__":
    for line in main():
        print(line)
