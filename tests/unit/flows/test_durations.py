from __future__ import annotations

import pytest

from golive.tasks.foundation.durations import parse_due, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("7d", 604800), ("1.5h", 5400), (45, 45), ("1w", 604800)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5", "5 minutes", "-1s", "m5", "", True, -3])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "days"),
    [("week 1 day 1", 0), ("week 1 day 3", 2), ("week 2", 7), ("day 10", 9), ("Week 3 Day 7", 20)],
)
def test_due(text: str, days: int) -> None:
    assert parse_due(text).days == days


@pytest.mark.parametrize("bad", ["week 0", "week 1 day 8", "day 0", "tomorrow", ""])
def test_bad_due(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_due(bad)
