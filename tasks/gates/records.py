"""Gate tables (migration 0003_gates): verdicts, availability probe samples, rollbacks and each
location's rollout status. Created only by Alembic, never by `create_all`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class GateVerdictRow(Base):
    """A gate decision with the evidence of every criterion (the JSON of `Verdict.to_dict()`)."""

    __tablename__ = "gate_verdicts"
    __table_args__ = (Index("ix_gate_verdicts_gate_as_of", "gate", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gate: Mapped[str] = mapped_column(String(255))
    runbook: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    step_key: Mapped[str] = mapped_column(String(255))
    wave: Mapped[str | None] = mapped_column(String(64), nullable=True)
    as_of: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AvailabilitySampleRow(Base):
    """One health probe of the platform endpoint as seen for a location."""

    __tablename__ = "availability_samples"
    __table_args__ = (Index("ix_availability_samples_location_checked", "location_id", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))  # scheme://host/path, never credentials or query
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(String(255), nullable=True)


class DailyMetricRow(Base):
    """A location's metric on a day (rates in percent, with their counts). Unique per
    (location, metric, day, source): re-importing replaces, never duplicates."""

    __tablename__ = "gate_daily_metrics"
    __table_args__ = (
        Index("uq_gate_daily_metrics_key", "location_id", "metric", "day", "source", unique=True),
        Index("ix_gate_daily_metrics_metric_day", "metric", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float, nullable=True)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(64))


class RollbackRow(Base):
    """A rollback started for one location by a trigger (or by hand), with its deadline clock."""

    __tablename__ = "rollbacks"
    __table_args__ = (
        Index("ix_rollbacks_location_state", "location_id", "state"),
        # At most one open rollback per location, even with two watch runs at once (0012_scale).
        Index("uq_rollbacks_open_location", "location_id", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    triggers: Mapped[list[str]] = mapped_column(JSON)
    triggered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # deadlines count from here
    state: Mapped[str] = mapped_column(String(16))  # open | closed
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the run that started it
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LocationRolloutRow(Base):
    """Where one location stands: live on the platform, or back on its previous workflow.

    One row per location; a rollback changes only its own location's row (isolation protocol).
    """

    __tablename__ = "location_rollout"

    location_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wave: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(32))  # planned | live | rolled_back
    workflow: Mapped[str] = mapped_column(String(32))  # platform | previous
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MetricCollectionRow(Base):
    """What a collector found for one (location, metric, day): `ok` (a sample was written, from
    `source` by `query`) or `missing` (the source failed or had no data; `reason` says which).
    One row per key (migration 0011_collect): re-collecting a day replaces it."""

    __tablename__ = "metric_collections"
    __table_args__ = (
        Index("uq_metric_collections_key", "location_id", "metric", "day", unique=True),
        Index("ix_metric_collections_metric_day", "metric", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # ok | missing
    source: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(String(500))  # the request that produced it, never credentials or PHI
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
