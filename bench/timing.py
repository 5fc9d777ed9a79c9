"""Timing helpers shared by the benchmark areas: interleaved samples, median and spread, ratios.

This machine is noisy (shared, 2 cores), so every figure is the median of several runs with its
spread, and ours and the baseline alternate so a noisy moment hits both alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Samples:
    seconds: tuple[float, ...]  # the measured values: seconds unless `unit` names another one
    unit: str = "s"
    digits: int = 3

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def describe(self) -> str:
        """`0.81 s (0.77–0.95, n=7)`: the median, then the fastest and slowest run."""
        d = self.digits
        return (f"{self.median:.{d}f} {self.unit} ({min(self.seconds):.{d}f}–{max(self.seconds):.{d}f}, "
                f"n={len(self.seconds)})")


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def interleaved(ours: Callable[[], object], baseline: Callable[[], object], repeat: int) -> tuple[Samples, Samples]:
    """Run ours and the baseline alternately `repeat` times each (after one warm-up of each), in
    ABBA order (ours first in even pairs, the baseline first in odd ones), so neither side always
    runs right after the other (warm caches, a just-finished server flush) and a drift in the
    machine's load hits both alike."""
    ours()
    baseline()
    a, b = [], []
    for i in range(repeat):
        if i % 2 == 0:
            a.append(timed(ours))
            b.append(timed(baseline))
        else:
            b.append(timed(baseline))
            a.append(timed(ours))
    return Samples(tuple(a)), Samples(tuple(b))


def ratio_line(what: str, ours: Samples, base_name: str, base: Samples, goal: str = "") -> str:
    """One line: our median and spread, the named baseline's, the ratio of the medians and the
    spread of the per-pair ratios."""
    pairs = [x / y for x, y in zip(ours.seconds, base.seconds, strict=True)]
    goal_text = f" ({goal})" if goal else ""
    return (f"{what}: {ours.describe()}{goal_text}; baseline {base_name}: {base.describe()}; "
            f"ratio {ours.median / base.median:.2f} (per-pair median {statistics.median(pairs):.2f}, "
            f"{min(pairs):.2f}–{max(pairs):.2f})")
