"""How much each location received today: the per-day size limit's ledger (migration 0009_dicom).

Bytes are counted as they arrive on an association (and as an intraoral file is admitted), so the
limit holds across restarts and across the DICOM and upload paths. The store row is a running
total per (location, local calendar day), incremented atomically; a receiver adds what it received
after every stored object and when the association ends, so a crash loses at most one object's
count. Several receivers for one location share the row, each reading it when an association
starts; between two such reads they can overshoot the limit by what they received meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Integer, String, Table, select
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime

Clock = Callable[[], datetime]


class DicomDailyUsageRow(Base):
    __tablename__ = "dicom_daily_usage"

    location: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the location's local calendar day
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    objects: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageLedger(Protocol):
    def used(self, location: str, day: date) -> int: ...

    def add(self, location: str, day: date, nbytes: int, objects: int = 0) -> None: ...


class StoreLedger:
    """The ledger in the golive store (SQLite or PostgreSQL): one upsert per addition."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def used(self, location: str, day: date) -> int:
        with self.store.session(readonly=True) as s:
            value = s.scalar(select(DicomDailyUsageRow.bytes).where(
                DicomDailyUsageRow.location == location, DicomDailyUsageRow.day == day))
        return int(value or 0)

    def add(self, location: str, day: date, nbytes: int, objects: int = 0) -> None:
        if nbytes <= 0 and objects <= 0:
            return
        if self.store.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        table = cast(Table, DicomDailyUsageRow.__table__)
        stmt = insert(table).values(location=location, day=day, bytes=nbytes, objects=objects,
                                    updated_at=datetime.now(UTC))
        stmt = stmt.on_conflict_do_update(
            index_elements=["location", "day"],
            set_={"bytes": table.c.bytes + stmt.excluded.bytes, "objects": table.c.objects + stmt.excluded.objects,
                  "updated_at": stmt.excluded.updated_at})
        with self.store.connection() as conn:
            conn.execute(stmt)


class MemoryLedger:
    """A ledger for a receiver without a store (plain-Python use): counts reset with the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, date], int] = {}

    def used(self, location: str, day: date) -> int:
        with self._lock:
            return self._rows.get((location, day), 0)

    def add(self, location: str, day: date, nbytes: int, objects: int = 0) -> None:
        with self._lock:
            self._rows[(location, day)] = self._rows.get((location, day), 0) + nbytes


class DailyUsage:
    """Today's total for one location: what the ledger holds plus what open transfers received.

    `charge` runs on every socket read, so it only touches memory; `settle` writes to the ledger.
    """

    def __init__(self, ledger: UsageLedger, location: str, timezone: str = "UTC", clock: Clock | None = None) -> None:
        self.ledger = ledger
        self.location = location
        self.tz = ZoneInfo(timezone)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._day = self.today()
        self._settled = ledger.used(location, self._day)
        self._open = 0

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def _roll(self) -> None:
        day = self.today()
        if day != self._day:  # midnight passed: open transfers count on the new day from here on
            self._day, self._settled = day, self.ledger.used(self.location, day)

    def refresh(self) -> int:
        """Re-read the ledger (another receiver may have added); today's total."""
        day = self.today()
        settled = self.ledger.used(self.location, day)
        with self._lock:
            self._day, self._settled = day, settled
            return self._settled + self._open

    def charge(self, nbytes: int) -> int:
        with self._lock:
            self._roll()
            self._open += nbytes
            return self._settled + self._open

    def settle(self, nbytes: int, objects: int = 0) -> None:
        """Move `nbytes` charged by a transfer from open to the ledger."""
        if nbytes <= 0 and objects <= 0:
            return
        with self._lock:
            day = self._day
            self._open -= nbytes
            self._settled += nbytes
        self.ledger.add(self.location, day, nbytes, objects)
