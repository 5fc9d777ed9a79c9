"""The gate: `evaluate(spec, observations) -> Verdict`, a pure function over dense daily arrays.

Scopes: `location` evaluates every location on its own row (vectorised over rows) and fails if any
location fails; `wave` first combines the wave's locations into one daily series (mean, or sum
with `combine: sum`; counts are summed) — except change tests, which pool every location-day
sample; `across` compares per-location aggregates (dispersion). `min_samples` counts days with
an observation; fewer gives `inconclusive`, never a pass.

With each location's go-live given (`GateSpec.live`), a location counts in windows from its own
go-live, and a change test's baseline over the same locations is each location's own days before
its go-live (as many as the baseline window spans), not the one window before the wave's first.

Comparisons treat values within 1e-9 of the threshold as equal, so an average that is 99.0 up
to floating-point noise is 99.0: it fails `> 99` and passes `>= 99`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from golive.tasks.gates import stats
from golive.tasks.gates.criteria import Criterion, GateSpec, Op, Scope, Status, own_baselines
from golive.tasks.gates.observations import MetricSeries, Observations
from golive.tasks.gates.verdict import CriterionResult, LocationResult, Verdict, decide

log = logging.getLogger(__name__)

WAVE = "(wave)"
ACROSS = "(across)"


def compare(x: np.ndarray, op: Op, v: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    close = np.isclose(x, v, rtol=0.0, atol=1e-9)
    with np.errstate(invalid="ignore"):
        if op is Op.GT:
            return (x > v) & ~close
        if op is Op.GE:
            return (x > v) | close
        if op is Op.LT:
            return (x < v) & ~close
        if op is Op.LE:
            return (x < v) | close
        return close


@dataclass(frozen=True)
class _Block:
    """The window's data for the rows a criterion looks at (locations, or one combined wave row)."""

    labels: tuple[str, ...]
    values: np.ndarray  # (rows, days)
    numerator: np.ndarray | None
    denominator: np.ndarray | None
    first: date
    last: date


def _nan_reduce(fn, a: np.ndarray, axis: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, on purpose
        return fn(a, axis=axis)


def _block(obs: Observations, series: MetricSeries, rows: np.ndarray, labels: tuple[str, ...],
           first: date, last: date, crit: Criterion, combine_wave: bool) -> _Block:
    cols = obs.columns(first, last)
    vals = series.values[rows, cols]
    num = None if series.numerator is None else series.numerator[rows, cols]
    den = None if series.denominator is None else series.denominator[rows, cols]
    if combine_wave:
        combined = _combine_days(vals, crit)
        if num is not None and den is not None:
            has = np.isfinite(den).any(axis=0)
            num = np.where(has, np.nansum(num, axis=0), np.nan)[None, :]
            den = np.where(has, np.nansum(den, axis=0), np.nan)[None, :]
        return _Block((WAVE,), combined, num, den, first, last)
    return _Block(labels, vals, num, den, first, last)


def _aligned_block(obs: Observations, series: MetricSeries, rows: np.ndarray, labels: tuple[str, ...],
                   first: date, last: date, crit: Criterion, live: Mapping[str, date]) -> _Block:
    """A staggered wave's combined series on a common clock: day k is each location's k-th day
    from its own go-live (or the window's start), over the days every live location in scope has
    had by `last`. On calendar days a summed volume rises as locations go live one by one (wave 3:
    5 a week), which a trend test would read as the wave's trend."""
    starts = [(r, max(live[lab], first)) for r, lab in zip(rows, labels, strict=True) if lab in live]
    span = max(min(((last - s).days + 1 for _, s in starts), default=0), 0)
    vals = np.full((len(starts), span), np.nan)
    for k, (r, s) in enumerate(starts):
        idx = np.arange(span) + (s - obs.start).days
        ok = (idx >= 0) & (idx < obs.days)
        vals[k, ok] = series.values[r, idx[ok]]
    combined = _combine_days(vals, crit) if starts else np.full((1, 0), np.nan)
    return _Block((WAVE,), combined, None, None, first, last)


def _combine_days(vals: np.ndarray, crit: Criterion) -> np.ndarray:
    """The wave's one row: each day's values summed or averaged (`combine`) over the rows with data."""
    reducer = np.nansum if crit.combine == "sum" else np.nanmean
    any_obs = np.isfinite(vals).any(axis=0)
    return np.where(any_obs, _nan_reduce(reducer, vals, 0), np.nan)[None, :]


def aggregate(block: _Block, how: str) -> tuple[np.ndarray, np.ndarray]:
    """(aggregate, days observed) per row."""
    vals = block.values
    n = np.isfinite(vals).sum(axis=1)
    if how == "rate":
        if block.numerator is None or block.denominator is None:
            return np.full(len(n), np.nan), n
        with np.errstate(invalid="ignore", divide="ignore"):
            den = np.nansum(block.denominator, axis=1)
            out = 100.0 * np.nansum(block.numerator, axis=1) / den
        return np.where(den > 0, out, np.nan), np.isfinite(block.denominator).sum(axis=1)
    if how == "last":
        finite = np.isfinite(vals)
        idx = vals.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1) if vals.shape[1] else np.zeros(len(n), int)
        out = vals[np.arange(len(n)), idx] if vals.shape[1] else np.full(len(n), np.nan)
        return np.where(n > 0, out, np.nan), n
    fn = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax, "sum": np.nansum}[how]
    out = _nan_reduce(fn, vals, 1) if vals.shape[1] else np.full(len(n), np.nan)
    return np.where(n > 0, out, np.nan), n


def _too_few(label: str, n: int, need: int, what: str = "days with data") -> LocationResult:
    return LocationResult(label, Status.INCONCLUSIVE, int(n), None, f"{n} {what}, needs {need}")


def _threshold(crit: Criterion, block: _Block) -> list[LocationResult]:
    assert crit.op is not None and crit.value is not None
    agg, n = aggregate(block, crit.aggregate)
    ok = compare(agg, crit.op, crit.value)
    out = []
    for i, label in enumerate(block.labels):
        if n[i] < crit.min_samples or not np.isfinite(agg[i]):
            out.append(_too_few(label, int(n[i]), crit.min_samples))
            continue
        status = Status.PASS if ok[i] else Status.FAIL
        out.append(LocationResult(label, status, int(n[i]), float(agg[i]),
                                  f"{crit.aggregate} {agg[i]:.6g} {crit.op.value} {crit.value:g}"))
    return out


def _baseline_text(crit: Criterion, own: Mapping[str, tuple[date, date]] | None, span: tuple[date, date] | None,
                   label: str) -> str:
    """What the evidence says the baseline was: the window (`span`), or each location's own days
    (`span` then covers them all; None when no location in scope is live)."""
    if own is None:
        assert span is not None
        return f"{span[0]}..{span[1]}"
    assert crit.baseline is not None
    days = crit.baseline.window.length
    if label == WAVE:
        return f"each location's {days} days before its go-live ({'..'.join(map(str, span)) if span else 'none live yet'})"
    if label not in own:
        return "none: not live yet"
    return f"its {days} days before its go-live ({own[label][0]}..{own[label][1]})"


def _change(crit: Criterion, obs: Observations, series: MetricSeries, rows: np.ndarray,
            labels: tuple[str, ...], first: date, last: date, cur: MetricSeries,
            own: Mapping[str, tuple[date, date]] | None) -> list[LocationResult]:
    """`cur` is `series` with each location's days before its go-live removed (the current window's
    data). The baseline reads the baseline window of `series` (before go-live is what a baseline
    is) or, with `own` (each location's own baseline days, see `own_baselines`), only those days."""
    assert crit.baseline is not None
    b_first, b_last = crit.baseline.window.resolve(last)
    base = series
    if own is not None:
        base = only_days(obs, series, own)
        spans = [own[lab] for lab in labels if lab in own]
        if spans:  # the columns span every location's own days; each row is blank outside its own
            b_first, b_last = min(s[0] for s in spans), max(s[1] for s in spans)
    span = (b_first, b_last) if own is None or any(lab in own for lab in labels) else None
    b_rows = rows if crit.baseline.locations is None else obs.rows(crit.baseline.locations)
    cur_cols, base_cols = obs.columns(first, last), obs.columns(b_first, b_last)
    pooled = crit.scope is Scope.WAVE

    def pick(arr: np.ndarray, r: np.ndarray, c: slice) -> np.ndarray:
        block = arr[r, c]
        return block.reshape(1, -1) if pooled else block

    vals_c, vals_b = pick(cur.values, rows, cur_cols), pick(base.values, b_rows, base_cols)
    n_c, n_b = np.isfinite(vals_c).sum(axis=1), np.isfinite(vals_b).sum(axis=1)
    method = crit.method
    if method == "auto":
        counted = cur.denominator is not None and base.numerator is not None and base.denominator is not None \
            and all(bool((np.nansum(pick(d, r, c), axis=1) > 0).all())
                    for d, r, c in ((cur.denominator, rows, cur_cols), (base.denominator, b_rows, base_cols)))
        per_row_base = np.isfinite(base.values[b_rows, base_cols]).sum(axis=1)
        method = "two_proportion" if counted else "one_sample" if per_row_base.max(initial=0) <= 1 else "welch"
    scale = 1.0
    if method == "one_sample":
        # Each location's current days against its own baseline value (or, with baseline
        # locations given, against their mean); pooled over the wave for wave scope.
        base_rows = base.values[b_rows, base_cols]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if crit.baseline.locations is None:
                ref = np.nanmean(base_rows, axis=1)[:, None]
            else:
                ref = np.full((len(rows), 1), np.nanmean(base_rows))
        diffs = cur.values[rows, cur_cols] - ref
        diffs = diffs.reshape(1, -1) if pooled else diffs
        test = stats.one_sample(diffs, crit.alpha, crit.power)
        n_c = np.isfinite(diffs).sum(axis=1)
        n_b = (np.isfinite(base_rows).sum() * np.ones(1) if pooled else np.isfinite(base_rows).sum(axis=1))
    elif method == "two_proportion":
        if base.numerator is None or base.denominator is None or cur.numerator is None or cur.denominator is None:
            return [LocationResult(lab, Status.INCONCLUSIVE, 0, None, "two_proportion needs counts")
                    for lab in ((WAVE,) if pooled else labels)]
        x_c, d_c = (np.nansum(pick(a, rows, cur_cols), axis=1) for a in (cur.numerator, cur.denominator))
        x_b, d_b = (np.nansum(pick(a, b_rows, base_cols), axis=1) for a in (base.numerator, base.denominator))
        n_c = np.isfinite(pick(cur.denominator, rows, cur_cols)).sum(axis=1)
        n_b = np.isfinite(pick(base.denominator, b_rows, base_cols)).sum(axis=1)
        test = stats.two_proportion(x_b, d_b, x_c, d_c, crit.alpha, crit.power)
        scale = 100.0  # proportions → percentage points, the unit of rate metrics
    elif method == "welch":
        test = stats.welch(vals_b, vals_c, crit.alpha, crit.power)
    else:
        test = stats.mann_whitney(vals_b, vals_c, crit.alpha, crit.power)
    out = []
    for i, label in enumerate((WAVE,) if pooled else labels):
        nb, nc = int(n_b[i]), int(n_c[i])
        ev: dict[str, Any] = {
            "method": test.method, "alpha": crit.alpha, "power": crit.power,
            "baseline_window": _baseline_text(crit, own, span, label), "baseline_days": nb, "current_days": nc,
            "n_baseline": float(test.n_baseline[i]), "n_current": float(test.n_current[i]),
            "effect": float(test.effect[i] * scale), "ci_level": 1 - 2 * crit.alpha,
            "ci_low": float(test.ci_low[i] * scale), "ci_high": float(test.ci_high[i] * scale),
            "statistic": float(test.statistic[i]), "p_value": float(test.p_value[i]),
            "min_detectable_decrease": float(test.mdd[i] * scale),
        }
        need_b = crit.min_samples if crit.min_baseline_samples is None else crit.min_baseline_samples
        if nc < crit.min_samples or nb < need_b:
            out.append(LocationResult(label, Status.INCONCLUSIVE, min(nb, nc), None,
                                      f"baseline {nb} / current {nc} days with data, needs {need_b} / {crit.min_samples}", ev))
            continue
        p, eff, mdd = float(test.p_value[i]), float(ev["effect"]), float(ev["min_detectable_decrease"])
        if not np.isfinite(p):
            out.append(LocationResult(label, Status.INCONCLUSIVE, min(nb, nc), eff, "test undefined (no variation)", ev))
            continue
        significant = p < crit.alpha
        text = f"effect {eff:+.4g} (CI {ev['ci_low']:+.4g}..{ev['ci_high']:+.4g}), p={p:.4g}, detectable decrease {mdd:.4g}"
        if crit.test == "no_decrease":
            if significant:
                status = Status.FAIL
                text = "significant decrease: " + text
            elif crit.max_detectable is not None and mdd > crit.max_detectable:
                status = Status.INCONCLUSIVE
                text = f"no significant decrease, but only a decrease over {mdd:.4g} was detectable: " + text
            else:
                status = Status.PASS
                text = "no significant decrease: " + text
        else:  # decrease: must be shown
            if significant:
                status, text = Status.PASS, "significant decrease: " + text
            elif eff < 0:
                status, text = Status.INCONCLUSIVE, "lower but not significantly: " + text
            else:
                status, text = Status.FAIL, "no decrease: " + text
        out.append(LocationResult(label, status, min(nb, nc), eff, text, ev))
    return out


def _trend(crit: Criterion, block: _Block) -> list[LocationResult]:
    t = stats.mann_kendall(block.values)
    p = t.p_decreasing if crit.direction == "decreasing" else t.p_increasing
    out = []
    for i, label in enumerate(block.labels):
        n = int(t.n[i])
        ev = {"direction": crit.direction, "alpha": crit.alpha, "s": float(t.s[i]), "var_s": float(t.var_s[i]),
              "z": float(t.z[i]), "p_value": float(p[i]), "tau": float(t.tau[i]),
              "slope_per_day": float(t.slope[i]), "intercept": float(t.intercept[i])}
        if n < max(crit.min_samples, 3):
            out.append(LocationResult(label, Status.INCONCLUSIVE, n, None,
                                      f"{n} days with data, needs {max(crit.min_samples, 3)}", ev))
            continue
        ok = p[i] < crit.alpha
        text = (f"{'significant' if ok else 'no significant'} {crit.direction} trend: "
                f"Sen slope {t.slope[i]:+.4g}/day, Kendall tau {t.tau[i]:+.3f}, p={p[i]:.4g}")
        out.append(LocationResult(label, Status.PASS if ok else Status.FAIL, n, float(t.slope[i]), text, ev))
    return out


def _dispersion(crit: Criterion, block: _Block) -> tuple[list[LocationResult], LocationResult]:
    assert crit.max_cv is not None
    agg, n = aggregate(block, crit.aggregate)
    per = []
    used = []
    for i, label in enumerate(block.labels):
        if n[i] < crit.min_samples or not np.isfinite(agg[i]):
            per.append(_too_few(label, int(n[i]), crit.min_samples))
        else:
            per.append(LocationResult(label, Status.PASS, int(n[i]), float(agg[i]), f"{crit.aggregate} {agg[i]:.6g}"))
            used.append(agg[i])
    cv, mean, sd, k = stats.coefficient_of_variation(np.array(used))
    ev = {"cv": cv, "cv_pct": cv * 100 if np.isfinite(cv) else None, "mean": mean, "sd": sd,
          "locations_used": k, "max_cv": crit.max_cv}
    if k < max(2, crit.min_locations):
        return per, LocationResult(ACROSS, Status.INCONCLUSIVE, k, None,
                                   f"{k} locations with enough data, needs {max(2, crit.min_locations)}", ev)
    op = crit.op or Op.LT
    ok = bool(compare(np.array([cv]), op, crit.max_cv)[0])
    text = f"coefficient of variation {cv:.2%} {op.value} {crit.max_cv:.2%} across {k} locations"
    return per, LocationResult(ACROSS, Status.PASS if ok else Status.FAIL, k, cv, text, ev)


def _consecutive(crit: Criterion, block: _Block) -> list[LocationResult]:
    assert crit.op is not None and crit.value is not None
    held = compare(block.values, crit.op, crit.value) & np.isfinite(block.values)
    longest, trailing = stats.runs(held)
    n = np.isfinite(block.values).sum(axis=1)
    out = []
    cond = f"{crit.metric} {crit.op.value} {crit.value:g}"
    for i, label in enumerate(block.labels):
        ev = {"condition": cond, "longest_run": int(longest[i]), "trailing_run": int(trailing[i]),
              "days_held": int(held[i].sum()), "missing_days": int(block.values.shape[1] - n[i])}
        if n[i] < crit.min_samples:
            out.append(_too_few(label, int(n[i]), crit.min_samples))
            continue
        if crit.max_days is not None:
            ok = longest[i] <= crit.max_days
            text = f"{cond} held {longest[i]} consecutive days at most (limit {crit.max_days})"
            value = float(longest[i])
        else:
            assert crit.min_days is not None
            ok = trailing[i] >= crit.min_days
            text = f"{cond} held the last {trailing[i]} consecutive days (needs {crit.min_days})"
            value = float(trailing[i])
        out.append(LocationResult(label, Status.PASS if ok else Status.FAIL, int(n[i]), value, text, ev))
    return out


def _roll_up(results: list[LocationResult]) -> Status:
    if not results:
        return Status.INCONCLUSIVE
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.INCONCLUSIVE in statuses:
        return Status.INCONCLUSIVE
    return Status.PASS


def only_days(obs: Observations, series: MetricSeries, spans: Mapping[str, tuple[date, date]]) -> MetricSeries:
    """`series` with each location's days outside its own span (first, last) blanked (NaN), and
    every day of a location without one."""
    keep = np.zeros((len(obs.locations), obs.days), dtype=bool)
    for r, loc in enumerate(obs.locations):
        if loc in spans:
            keep[r, obs.columns(*spans[loc])] = True

    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.where(keep, a, np.nan)

    values = cut(series.values)
    assert values is not None
    return MetricSeries(values, cut(series.numerator), cut(series.denominator))


def since_go_live(obs: Observations, series: MetricSeries, live: Mapping[str, date] | None) -> MetricSeries:
    """`series` with each location's days before its own go-live blanked (NaN), and every day of a
    location without one (not live yet): a wave whose go-lives are staggered is judged per location
    from its own go-live, not from the wave's first. Unchanged when `live` is None. Its mirror for
    baselines is `only_days` over `criteria.own_baselines`."""
    if live is None:
        return series
    return only_days(obs, series, {loc: (day, obs.end) for loc, day in live.items()})


def live_long_enough(spec: GateSpec, obs: Observations, as_of: date) -> CriterionResult | None:
    """With go-lives given and `min_live_days`: every location in scope live at least that many days
    by `as_of`, else inconclusive (a GO must not cover a location not live, or live only days)."""
    if spec.live is None or spec.min_live_days <= 0:
        return None
    scope = list(spec.locations) if spec.locations is not None else list(obs.locations)
    days = {loc: (as_of - spec.live[loc]).days + 1 if loc in spec.live else 0 for loc in scope}
    short = sorted(loc for loc, d in days.items() if d < spec.min_live_days)
    results = tuple(LocationResult(loc, Status.PASS if d >= spec.min_live_days else Status.INCONCLUSIVE, max(d, 0),
                                   float(max(d, 0)), "not live yet" if d <= 0 else f"live {d} day(s)")
                    for loc, d in sorted(days.items()))
    if short:
        names = ", ".join(short[:10]) + (" …" if len(short) > 10 else "")
        reason = f"{len(short)}/{len(scope)} locations live under {spec.min_live_days} days: {names}"
    else:
        reason = f"all {len(scope)} locations live at least {spec.min_live_days} days"
    return CriterionResult("live-period", f"Every location live at least {spec.min_live_days} days", "go_live_day",
                           "live_days", Scope.LOCATION.value, f"each location's go-live..{as_of}", True,
                           Status.INCONCLUSIVE if short else Status.PASS, reason,
                           {"min_live_days": spec.min_live_days, "locations": len(scope)}, results, 1.0)


def evaluate_criterion(crit: Criterion, obs: Observations, spec: GateSpec, as_of: date) -> CriterionResult:
    first, last = crit.window.resolve(as_of)
    window = f"{crit.window.describe()} ({first}..{last})"

    def result(status: Status, reason: str, evidence: dict[str, Any] | None = None,
               results: tuple[LocationResult, ...] = ()) -> CriterionResult:
        return CriterionResult(crit.id, crit.label(), crit.metric, crit.test, crit.scope.value, window,
                               crit.critical, status, reason, evidence or {}, results, crit.weight)

    series = obs.metrics.get(crit.metric)
    rows = obs.rows(spec.locations)
    labels = tuple(obs.locations[r] for r in rows)
    if series is None or len(rows) == 0:
        what = f"no observations of {crit.metric}" if series is None else "no locations in scope"
        return result(Status.INCONCLUSIVE, what)
    evidence: dict[str, Any] = {"locations": len(rows)}
    cur = since_go_live(obs, series, spec.live)
    if crit.test in ("no_decrease", "decrease"):
        results = _change(crit, obs, series, rows, labels, first, last, cur, own_baselines(crit, spec, last))
    else:
        if crit.test == "trend" and crit.scope is Scope.WAVE and spec.live is not None:
            block = _aligned_block(obs, cur, rows, labels, first, last, crit, spec.live)
            evidence["clock"] = f"days from each location's go-live: the {block.values.shape[1]} every location has had"
        else:
            block = _block(obs, cur, rows, labels, first, last, crit, combine_wave=crit.scope is Scope.WAVE)
        if crit.test == "threshold":
            results = _threshold(crit, block)
        elif crit.test == "trend":
            results = _trend(crit, block)
        elif crit.test == "consecutive":
            results = _consecutive(crit, block)
        else:
            per, overall = _dispersion(crit, block)
            evidence.update(overall.evidence)
            return result(overall.status, overall.detail, evidence, (overall, *per))
    status = _roll_up(results)
    if len(results) == 1:
        reason = results[0].detail
        evidence.update(results[0].evidence)
    else:
        bad = [r for r in results if r.status is status] if status is not Status.PASS else results
        names = ", ".join(r.location for r in bad[:10]) + (" …" if len(bad) > 10 else "")
        word = {Status.PASS: "all", Status.FAIL: "failing:", Status.INCONCLUSIVE: "inconclusive:"}[status]
        reason = f"{len(bad)}/{len(results)} locations {word} {names}"
        if status is Status.PASS:
            vals = [r.value for r in results if r.value is not None]
            span = f" ({min(vals):.6g}..{max(vals):.6g})" if vals else ""
            reason = f"all {len(results)} locations pass{span}"
        evidence["counts"] = {s.value: sum(r.status is s for r in results) for s in Status}
    return result(status, reason, evidence, tuple(results))


def evaluate(spec: GateSpec, observations: Observations) -> Verdict:
    """Every criterion of `spec` over `observations`, and the decision: go, no-go or inconclusive."""
    as_of = spec.as_of or observations.end
    results = tuple(evaluate_criterion(c, observations, spec, as_of) for c in spec.criteria)
    live = live_long_enough(spec, observations, as_of)
    if live is not None:
        results = (live, *results)
    decision, reasons = decide(results)
    total = sum(c.weight for c in results) or 1.0
    score = sum(c.weight for c in results if c.status is Status.PASS) / total
    log.info("gate %s as of %s: %s (%d criteria)", spec.name, as_of, decision.value, len(results))
    return Verdict(gate=spec.name, decision=decision, as_of=as_of, criteria=results, score=score, reasons=reasons)
