"""Deadlines counted from a trigger time (the rollback's 2 h / 24 h / 1 week), as pure values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from golive.tasks.foundation import clock
from golive.tasks.foundation.errors import UserInputError


@dataclass(frozen=True)
class DeadlineStatus:
    since: datetime
    due_at: datetime
    checked_at: datetime
    overdue: bool
    remaining_s: float  # negative when overdue

    def to_dict(self) -> dict[str, object]:
        return {"since": self.since.isoformat(), "due_at": self.due_at.isoformat(),
                "checked_at": self.checked_at.isoformat(), "overdue": self.overdue,
                "remaining_s": round(self.remaining_s, 1),
                "late_by_s": round(max(0.0, -self.remaining_s), 1)}


def parse_instant(text: str | datetime, what: str = "time") -> datetime:
    """An aware datetime from ISO 8601 (a date alone is its UTC midnight; naive means UTC)."""
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise UserInputError(f"{what}: not an ISO 8601 date or time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def assess(since: datetime, within_s: float, now: datetime | None = None) -> DeadlineStatus:
    """Due at `since + within`; overdue once `now` is past it (exactly on time is not overdue)."""
    checked = now or clock.now()  # simulated during a rehearsal
    due = since + timedelta(seconds=within_s)
    remaining = (due - checked).total_seconds()
    return DeadlineStatus(since, due, checked, remaining < 0, remaining)
