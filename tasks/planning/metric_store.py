"""The baseline-metrics table (migration 0002_metrics): one value per location, metric and period.

Created only by Alembic (`tasks/store/migrations/versions/0002_metrics.py`). The natural key
(location, metric, period) is unique, which is what makes a repeated import change nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class BaselineMetricRow(Base):
    __tablename__ = "baseline_metrics"
    __table_args__ = (
        UniqueConstraint("location_id", "metric", "period_start", "period_end", name="uq_baseline_metrics_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    sample_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
