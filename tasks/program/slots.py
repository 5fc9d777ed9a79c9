"""Go-live slots: at most 3 go-lives a day (readiness calendar), at most 5 a week in wave 3, on
business days only. Plain functions over the go-lives already recorded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

DAY_CAP = 3
WEEK_CAP = {3: 5}  # wave -> go-lives per week


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


@dataclass
class SlotBook:
    """Go-lives per day (all waves) and per week (per wave), so caps can be checked and filled."""

    holidays: frozenset[date] = frozenset()
    per_day: Counter[date] = field(default_factory=Counter)
    per_week: Counter[tuple[int | None, date]] = field(default_factory=Counter)

    @classmethod
    def of(cls, taken: Iterable[tuple[str, date, int | None]], holidays: frozenset[date] = frozenset()) -> SlotBook:
        book = cls(holidays)
        for _loc, day, wave in taken:
            book.take(day, wave)
        return book

    def take(self, day: date, wave: int | None) -> None:
        self.per_day[day] += 1
        self.per_week[(wave, monday(day))] += 1

    def why_full(self, day: date, wave: int | None) -> str | None:
        if not is_business_day(day, self.holidays):
            return f"{day.isoformat()} is not a business day"
        if self.per_day[day] >= DAY_CAP:
            return f"{day.isoformat()} already has {self.per_day[day]} go-lives (at most {DAY_CAP} a day)"
        cap = WEEK_CAP.get(wave or 0)
        if cap is not None and self.per_week[(wave, monday(day))] >= cap:
            return (f"the week of {monday(day).isoformat()} already has {self.per_week[(wave, monday(day))]} "
                    f"wave {wave} go-lives (at most {cap} a week)")
        return None

    def next_free(self, day: date, wave: int | None) -> date:
        for _ in range(3660):
            if self.why_full(day, wave) is None:
                return day
            day += timedelta(days=1)
        raise RuntimeError("no free go-live slot within ten years")
