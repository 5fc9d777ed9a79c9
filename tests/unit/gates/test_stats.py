"""The gate's statistics against scipy.stats and pymannkendall, computed independently there."""

from __future__ import annotations

import numpy as np
import pymannkendall as pmk
import pytest
from scipy import stats as st

from golive.tasks.gates import stats


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(620, 1000, 580, 1000), (45, 60, 52, 70), (30, 50, 30, 50), (5, 40, 1, 35)])
def test_two_proportion_matches_chi_square_and_barnard_statistic(x1: int, n1: int, x2: int, n2: int) -> None:
    t = stats.two_proportion(np.array([x1]), np.array([n1]), np.array([x2]), np.array([n2]), 0.05, 0.8)
    table = np.array([[x2, n2 - x2], [x1, n1 - x1]])
    chi2 = st.chi2_contingency(table, correction=False).statistic
    assert t.statistic[0] ** 2 == pytest.approx(chi2, rel=1e-9)
    if n1 + n2 <= 130:  # Barnard's exact test is slow on big tables; its Wald statistic is ours
        assert t.statistic[0] == pytest.approx(st.barnard_exact(table, alternative="less", pooled=True).statistic, rel=1e-9)
    assert t.p_value[0] == pytest.approx(st.norm.cdf(t.statistic[0]))
    p1, p2 = x1 / n1, x2 / n2
    se1 = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z95 = st.norm.ppf(0.95)
    assert (t.ci_low[0], t.ci_high[0]) == pytest.approx((p2 - p1 - z95 * se1, p2 - p1 + z95 * se1), rel=1e-9)


def test_two_proportion_detectable_decrease_has_the_stated_power() -> None:
    t = stats.two_proportion(np.array([600]), np.array([1000]), np.array([600]), np.array([1000]), 0.05, 0.8)
    pooled_se = np.sqrt(0.6 * 0.4 * (2 / 1000))
    # A true decrease of exactly the MDD is detected with probability `power` (normal approximation).
    assert st.norm.cdf(t.mdd[0] / pooled_se - st.norm.ppf(0.95)) == pytest.approx(0.8, abs=1e-9)
    assert t.mdd[0] == pytest.approx(0.0543, abs=5e-4)


def test_welch_matches_scipy_ttest_ind() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(60, 5, (4, 30))
    cur = rng.normal(57, 8, (4, 25))
    cur[1, :3] = np.nan  # missing days are left out
    t = stats.welch(base, cur, 0.05, 0.8)
    for r in range(4):
        c = cur[r][np.isfinite(cur[r])]
        ref = st.ttest_ind(c, base[r], equal_var=False, alternative="less")
        assert t.statistic[r] == pytest.approx(ref.statistic, rel=1e-9)
        assert t.p_value[r] == pytest.approx(ref.pvalue, rel=1e-9)
        two = st.ttest_ind(c, base[r], equal_var=False).confidence_interval(0.90)
        assert (t.ci_low[r], t.ci_high[r]) == pytest.approx((two.low, two.high), rel=1e-9)


def test_mann_whitney_matches_scipy_and_hodges_lehmann() -> None:
    rng = np.random.default_rng(5)
    base, cur = rng.integers(0, 10, (2, 20)).astype(float), rng.integers(0, 8, (2, 22)).astype(float)
    t = stats.mann_whitney(base, cur, 0.05, 0.8)
    for r in range(2):
        ref = st.mannwhitneyu(cur[r], base[r], alternative="less", method="asymptotic")
        assert t.statistic[r] == ref.statistic
        assert t.p_value[r] == pytest.approx(ref.pvalue, rel=1e-12)
        assert t.effect[r] == np.median(np.subtract.outer(cur[r], base[r]))
        assert t.ci_low[r] <= t.effect[r] <= t.ci_high[r]


def test_mann_kendall_matches_pymannkendall_with_ties() -> None:
    rng = np.random.default_rng(11)
    x = np.round(rng.normal(10, 2, (5, 40)) - 0.04 * np.arange(40))  # rounding makes ties
    t = stats.mann_kendall(x)
    for r in range(5):
        ref = pmk.original_test(x[r])
        assert t.s[r] == ref.s
        assert t.var_s[r] == pytest.approx(ref.var_s)
        assert t.z[r] == pytest.approx(ref.z)
        assert t.tau[r] == pytest.approx(ref.Tau)
        assert t.slope[r] == pytest.approx(ref.slope)
        assert min(t.p_decreasing[r], t.p_increasing[r]) * 2 == pytest.approx(ref.p)


def test_theil_sen_and_kendall_tau_match_scipy_without_ties() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(0, 1, 30) - 0.05 * np.arange(30)
    t = stats.mann_kendall(y[None, :])
    days = np.arange(30.0)
    ts = st.theilslopes(y, days)
    assert t.slope[0] == pytest.approx(ts.slope)
    assert t.intercept[0] == pytest.approx(ts.intercept)
    assert t.tau[0] == pytest.approx(st.kendalltau(days, y).statistic)


def test_mann_kendall_keeps_day_positions_across_missing_days() -> None:
    y = np.array([[10.0, 9.0, np.nan, 7.0, 6.0]])
    t = stats.mann_kendall(y)
    assert t.n[0] == 4 and t.s[0] == -6
    assert t.slope[0] == pytest.approx(-1.0)  # pairs are divided by the real day gap


def test_coefficient_of_variation_matches_scipy() -> None:
    v = np.array([80.0, 84.0, 90.0, np.nan, 77.0])
    cv, mean, sd, n = stats.coefficient_of_variation(v)
    assert n == 4
    assert cv == pytest.approx(st.variation(v[np.isfinite(v)], ddof=1))
    assert (mean, sd) == pytest.approx((82.75, np.std(v[np.isfinite(v)], ddof=1)))


@pytest.mark.parametrize(
    ("held", "longest", "trailing"),
    [([1, 1, 0, 1, 1, 1], 3, 3), ([1, 1, 1, 0, 1, 1], 3, 2), ([0, 0, 0], 0, 0), ([1], 1, 1), ([1, 0, 1, 0, 1], 1, 1)],
)
def test_runs(held: list[int], longest: int, trailing: int) -> None:
    lo, tr = stats.runs(np.array([held], dtype=bool))
    assert (lo[0], tr[0]) == (longest, trailing)


def test_one_sample_matches_scipy_ttest_1samp() -> None:
    rng = np.random.default_rng(8)
    d = rng.normal(-1.0, 3.0, (3, 20))
    t = stats.one_sample(d, 0.05, 0.8)
    for r in range(3):
        ref = st.ttest_1samp(d[r], 0.0, alternative="less")
        assert t.statistic[r] == pytest.approx(ref.statistic, rel=1e-9)
        assert t.p_value[r] == pytest.approx(ref.pvalue, rel=1e-9)
        two = st.ttest_1samp(d[r], 0.0).confidence_interval(0.90)
        assert (t.ci_low[r], t.ci_high[r]) == pytest.approx((two.low, two.high), rel=1e-9)
