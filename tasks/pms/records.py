"""The store table for idempotent treatment-plan write-back (migration 0004_pms).

A row is written (state `pending`) BEFORE the PMS is called, keyed by a digest of (runbook,
location, step, patient pseudonym, plan version). Only pseudonyms and PMS record numbers of the
plan itself are kept: no names, birth dates or PMS patient ids.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class PmsWritebackRow(Base):
    __tablename__ = "pms_writebacks"

    idem_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the key parts
    runbook: Mapped[str] = mapped_column(String(255))
    location: Mapped[str] = mapped_column(String(255), index=True)
    step: Mapped[str] = mapped_column(String(255))
    patient_pseudonym: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # pending | written | removing | removed | failed
    remote_plan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attached: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
