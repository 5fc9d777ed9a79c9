"""The statistics a gate uses, vectorised over rows (one row per location, or a single pooled row).

Each function takes arrays whose first axis is the row and returns arrays of per-row results;
NaN marks a missing sample and is left out. Tests check every one against scipy.stats and
pymannkendall.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

_PAIR_BUDGET = 4_000_000  # rows × pairs per chunk in the O(n²) pairwise statistics


@dataclass(frozen=True)
class ChangeTest:
    """One-sided test of H1 "current < baseline", per row. Effects are current − baseline."""

    method: str
    effect: np.ndarray
    ci_low: np.ndarray  # (1 − 2α) two-sided interval: its lower end is the one-sided (1 − α) bound
    ci_high: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray  # P(a value this low | no decrease)
    mdd: np.ndarray  # the smallest decrease detectable at α with the given power
    n_baseline: np.ndarray
    n_current: np.ndarray


def two_proportion(
    x_base: np.ndarray, n_base: np.ndarray, x_cur: np.ndarray, n_cur: np.ndarray, alpha: float, power: float
) -> ChangeTest:
    """Pooled two-proportion z-test (rates in proportions; effects in proportion units).

    The z statistic equals Barnard's pooled Wald statistic and z² the uncorrected χ² of the 2×2 table.
    The interval uses the unpooled standard error (Wald); the detectable decrease the pooled one.
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x_base, n_base, x_cur, n_cur))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        se1 = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        diff = p2 - p1
        z = np.where(se0 > 0, diff / se0, np.where(diff < 0, -np.inf, np.where(diff > 0, np.inf, 0.0)))
    za, zb = st.norm.ppf(1 - alpha), st.norm.ppf(power)
    return ChangeTest(
        method="two_proportion",
        effect=diff,
        ci_low=diff - za * se1,
        ci_high=diff + za * se1,
        statistic=z,
        p_value=st.norm.cdf(z),
        mdd=(za + zb) * se0,
        n_baseline=n1,
        n_current=n2,
    )


def _moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.sum(np.isfinite(a), axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(a, axis=1) / n
        var = np.nansum((a - mean[:, None]) ** 2, axis=1) / (n - 1)
    return n, mean, var


def welch(base: np.ndarray, cur: np.ndarray, alpha: float, power: float) -> ChangeTest:
    """Welch's t-test (unequal variances), one-sided "current mean < baseline mean", per row."""
    n1, m1, v1 = _moments(np.atleast_2d(base))
    n2, m2, v2 = _moments(np.atleast_2d(cur))
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        diff = m2 - m1
        t = np.where(se > 0, diff / se, np.where(diff < 0, -np.inf, np.where(diff > 0, np.inf, 0.0)))
    df = np.where(np.isfinite(df), df, np.maximum(n1 + n2 - 2, 1))  # both samples constant
    ta, tb = st.t.ppf(1 - alpha, df), st.t.ppf(power, df)
    return ChangeTest(
        method="welch",
        effect=diff,
        ci_low=diff - ta * se,
        ci_high=diff + ta * se,
        statistic=t,
        p_value=st.t.cdf(t, df),
        mdd=(ta + tb) * se,
        n_baseline=n1,
        n_current=n2,
    )


def one_sample(diffs: np.ndarray, alpha: float, power: float) -> ChangeTest:
    """One-sample t-test that the mean of (current − baseline value) is below 0, per row.

    For baselines known only as one aggregate per location (a period's value from a baseline
    report, no daily data): the baseline value is taken as fixed, so only the current days vary.
    """
    d = np.atleast_2d(diffs)
    n, m, v = _moments(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(v / n)
        t = np.where(se > 0, m / se, np.where(m < 0, -np.inf, np.where(m > 0, np.inf, 0.0)))
    df = np.maximum(n - 1, 1)
    ta, tb = st.t.ppf(1 - alpha, df), st.t.ppf(power, df)
    return ChangeTest(
        method="one_sample",
        effect=m,
        ci_low=m - ta * se,
        ci_high=m + ta * se,
        statistic=t,
        p_value=st.t.cdf(t, df),
        mdd=(ta + tb) * se,
        n_baseline=np.ones_like(n),
        n_current=n,
    )


def mann_whitney(base: np.ndarray, cur: np.ndarray, alpha: float, power: float) -> ChangeTest:
    """Mann-Whitney U (scipy, asymptotic with tie correction), one-sided "current tends lower".

    Effect: the Hodges-Lehmann shift (median of current − baseline differences) with its
    distribution-free interval; detectable decrease: Welch's scaled by √(π/3), the test's
    asymptotic relative efficiency against the t-test under normality.
    """
    base2, cur2 = np.atleast_2d(base), np.atleast_2d(cur)
    rows = base2.shape[0]
    out = {k: np.full(rows, np.nan) for k in ("effect", "lo", "hi", "u", "p")}
    za = st.norm.ppf(1 - alpha)
    for r in range(rows):
        x, y = base2[r][np.isfinite(base2[r])], cur2[r][np.isfinite(cur2[r])]
        if len(x) < 1 or len(y) < 1:
            continue
        res = st.mannwhitneyu(y, x, alternative="less", method="asymptotic")
        diffs = np.sort((y[:, None] - x[None, :]).ravel())
        m = len(diffs)
        k = int(np.floor(m / 2 - za * np.sqrt(len(x) * len(y) * (len(x) + len(y) + 1) / 12)))
        k = min(max(k, 0), m - 1)
        out["effect"][r], out["lo"][r], out["hi"][r] = np.median(diffs), diffs[k], diffs[m - 1 - k]
        out["u"][r], out["p"][r] = res.statistic, res.pvalue
    w = welch(base2, cur2, alpha, power)
    return ChangeTest(
        method="mann_whitney",
        effect=out["effect"],
        ci_low=out["lo"],
        ci_high=out["hi"],
        statistic=out["u"],
        p_value=out["p"],
        mdd=w.mdd * np.sqrt(np.pi / 3),
        n_baseline=w.n_baseline,
        n_current=w.n_current,
    )


@dataclass(frozen=True)
class TrendTest:
    """Mann-Kendall S with tie-corrected variance, its z, one-sided p, and the Theil-Sen slope."""

    n: np.ndarray
    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p_decreasing: np.ndarray  # P(S this low | no trend)
    p_increasing: np.ndarray
    tau: np.ndarray  # Kendall's tau-a, S / (n(n−1)/2), as pymannkendall reports it
    slope: np.ndarray  # Theil-Sen: median pairwise slope per day
    intercept: np.ndarray


def _tie_term(x: np.ndarray) -> np.ndarray:
    """Σ t(t−1)(2t+5) over groups of tied values, per row (NaN ignored), without a Python loop."""
    rows, cols = x.shape
    srt = np.sort(x, axis=1)  # NaN sorts last
    valid = np.isfinite(srt)
    new_group = np.ones_like(valid)
    new_group[:, 1:] = srt[:, 1:] != srt[:, :-1]
    group = np.cumsum(new_group.ravel()) - 1
    sizes = np.bincount(group, weights=valid.ravel().astype(float))
    owner = np.zeros(group[-1] + 1, dtype=np.intp) if cols else np.zeros(0, dtype=np.intp)
    owner[group] = np.repeat(np.arange(rows), cols)
    t = sizes
    return np.bincount(owner, weights=t * (t - 1) * (2 * t + 5), minlength=rows)


def mann_kendall(x: np.ndarray) -> TrendTest:
    """Mann-Kendall trend test and Theil-Sen slope for each row (time along axis 1, one step a day)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    rows, cols = x.shape
    n = np.sum(np.isfinite(x), axis=1).astype(float)
    ii, jj = np.triu_indices(cols, 1)
    s = np.zeros(rows)
    slope = np.full(rows, np.nan)
    chunk = max(1, _PAIR_BUDGET // max(1, len(ii)))
    for lo in range(0, rows, chunk):
        block = x[lo : lo + chunk]
        diff = block[:, jj] - block[:, ii]
        s[lo : lo + chunk] = np.nansum(np.sign(diff), axis=1)
        if len(ii):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # rows with no complete pair
                slope[lo : lo + chunk] = np.nanmedian(diff / (jj - ii), axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - _tie_term(x)) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var_s > 0, (s - np.sign(s)) / np.sqrt(var_s), 0.0)
        tau = s / (n * (n - 1) / 2)
        t = np.arange(cols, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # Conover's intercept, as scipy.stats.theilslopes: median(y) − slope · median(t)
            t_med = np.array([np.median(t[np.isfinite(row)]) if np.isfinite(row).any() else np.nan for row in x]) \
                if np.isnan(x).any() else np.full(rows, np.median(t) if cols else np.nan)
            intercept = np.nanmedian(x, axis=1) - slope * t_med if cols else np.full(rows, np.nan)
    return TrendTest(n, s, var_s, z, st.norm.cdf(z), st.norm.sf(z), tau, slope, intercept)


def coefficient_of_variation(values: np.ndarray) -> tuple[float, float, float, int]:
    """(cv, mean, sample std with ddof=1, n) over the finite values; cv is std / |mean|."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n < 2:
        return float("nan"), float(np.mean(v)) if n else float("nan"), float("nan"), n
    mean, sd = float(np.mean(v)), float(np.std(v, ddof=1))
    cv = sd / abs(mean) if mean != 0 else float("inf")
    return cv, mean, sd, n


def runs(held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(longest run, run ending on the last column) of True per row, vectorised."""
    held = np.atleast_2d(np.asarray(held, dtype=bool))
    rows, cols = held.shape
    if cols == 0:
        return np.zeros(rows, dtype=int), np.zeros(rows, dtype=int)
    idx = np.broadcast_to(np.arange(1, cols + 1), held.shape)
    last_break = np.maximum.accumulate(np.where(held, 0, idx), axis=1)
    length = np.where(held, idx - last_break, 0)
    return length.max(axis=1), length[:, -1]
