"""Durations (`30s`, `5m`, `2h`, `7d`) and due dates relative to the run start (`week 1 day 3`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_DUE = re.compile(r"^\s*(?:week\s+(\d+))?\s*(?:day\s+(\d+))?\s*$", re.I)


@dataclass(frozen=True)
class Due:
    """A due date relative to the run start: `week 1 day 3` is day offset 2 (day 1 is the start)."""

    text: str
    days: int


def parse_duration(text: str | int | float) -> float:
    """Seconds for a duration; bare numbers are seconds. Raises ValueError for anything else."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"negative duration: {text!r}")
        return float(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use a number and one of s, m, h, d, w, e.g. 30s, 5m, 2h, 7d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_due(text: str) -> Due:
    """`week W day D` (D 1–7 within week W), `week W` (its first day) or `day N` (N from run start).

    Day 1 of week 1 is the run start, so the result's `days` is the offset from the start.
    """
    match = _DUE.match(str(text))
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"not a due date: {text!r} (use 'week 1 day 3', 'week 2' or 'day 10')")
    week = int(match.group(1)) if match.group(1) else None
    day = int(match.group(2)) if match.group(2) else None
    if week is not None:
        if week < 1:
            raise ValueError(f"weeks count from 1: {text!r}")
        if day is not None and not 1 <= day <= 7:
            raise ValueError(f"day within a week must be 1-7: {text!r}")
        return Due(text=str(text), days=(week - 1) * 7 + (day or 1) - 1)
    assert day is not None
    if day < 1:
        raise ValueError(f"days count from 1: {text!r}")
    return Due(text=str(text), days=day - 1)
