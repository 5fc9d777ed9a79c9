"""Program tables (migration 0006_program): each location's lifecycle state, every transition,
guard overrides and integration-validation results. Created only by Alembic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class ProgramLocationRow(Base):
    """Where one location stands in the program now (one row per location)."""

    __tablename__ = "program_locations"

    location_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paused_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    remediation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    go_live_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgramEventRow(Base):
    """One lifecycle transition: who (run, step), from, to, when it takes effect, and which
    guard overrides it relied on."""

    __tablename__ = "program_events"
    __table_args__ = (Index("ix_program_events_location", "location_id"),
                      Index("ix_program_events_to_day", "to_state", "on_day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_state: Mapped[str] = mapped_column(String(32))
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    on_day: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(String(64))
    step_key: Mapped[str] = mapped_column(String(255))
    overrides: Mapped[list[int]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuardOverrideRow(Base):
    """A hard rule set aside by a named person in an allowed role, with the reason (shown in
    every later report)."""

    __tablename__ = "program_overrides"
    __table_args__ = (Index("ix_program_overrides_guard_subject", "guard", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guard: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))  # a location id, or "wave N"
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(64))
    step_key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ValidationResultRow(Base):
    """An integration-validation run's outcome for one location, with where its evidence lies."""

    __tablename__ = "program_validations"
    __table_args__ = (Index("ix_program_validations_location", "location_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgramPhaseRow(Base):
    """One phase of the stored plan (the readiness assessment's calendar): pre-implementation and
    each wave, with its planned start, first go-live and end. Each wave's due dates count from here,
    and deadline reminders run while a phase does (migration 0013_phases)."""

    __tablename__ = "program_phases"

    phase: Mapped[str] = mapped_column(String(64), primary_key=True)  # pre-implementation, wave-1, ...
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    starts_on: Mapped[date] = mapped_column(Date)
    first_go_live: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
