"""Which days an office is closed, from the organization file's `calendar:` (group and location).

A closed day is not a gap: a source with nothing for it is recorded `closed`, and the gate does not
turn inconclusive on it. Data that does arrive on a closed day (a Saturday clinic) is collected as
usual. A location's `closed_weekdays` replaces the group's; its `holidays` add to the group's;
`opened` closes every day before the office opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from golive.tasks.foundation.errors import GoliveError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class OfficeCalendar:
    closed_weekdays: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    opened: date | None = None

    def closed(self, day: date) -> str | None:
        """Why the office is closed on `day`, or None when it is open."""
        if self.opened is not None and day < self.opened:
            return f"office not open yet (opened {self.opened.isoformat()})"
        if day in self.holidays:
            return "office closed: holiday"
        if day.weekday() in self.closed_weekdays:
            return f"office closed on {WEEKDAYS[day.weekday()]}s"
        return None


def office_calendar(group: Mapping[str, Any] | None, location: Mapping[str, Any] | None = None,
                    group_holidays: frozenset[date] = frozenset()) -> OfficeCalendar:
    group, location = dict(group or {}), dict(location or {})
    weekdays = location["closed_weekdays"] if "closed_weekdays" in location else group.get("closed_weekdays", ())
    holidays = [*group.get("holidays", ()), *location.get("holidays", ())]
    opened = location.get("opened")
    return OfficeCalendar(frozenset(WEEKDAYS.index(str(w).lower()) for w in weekdays),
                          frozenset(date.fromisoformat(str(h)) for h in holidays) | group_holidays,
                          date.fromisoformat(str(opened)) if opened else None)


def calendars(org: Any, locations: Sequence[str]) -> dict[str, OfficeCalendar]:
    """Each location's calendar from an organization (duck-typed: `calendar`, `location(id).calendar`).
    The group's top-level `holidays` (the planning calendar's) close every office too."""
    group = getattr(org, "calendar", None)
    group_holidays = frozenset(getattr(org, "holiday_days", frozenset()))
    out = {}
    for loc in locations:
        try:
            own = getattr(org.location(loc), "calendar", None) if org is not None and hasattr(org, "location") else None
        except GoliveError:  # a location the organization does not define: no closed days of its own
            own = None
        out[loc] = office_calendar(group, own, group_holidays)
    return out
