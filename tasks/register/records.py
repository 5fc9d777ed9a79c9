"""The store table of the risk and issue register (migration 0010_documents).

One row per (source, subject, location): a gate criterion failing at a location, a rollback trigger,
a technical-check failure, a wave too large, a baseline gap. Sources open and refresh their rows;
a gate that passes again closes its own rows; people change owner, due date and status.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class RiskRow(Base):
    __tablename__ = "risk_register"
    __table_args__ = (
        Index("uq_risk_register_subject", "source", "subject", "location", unique=True),
        Index("ix_risk_register_status", "status", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))  # gate-failure | rollback | technical-check | wave-size | baseline-gap | manual
    subject: Mapped[str] = mapped_column(String(255))  # e.g. "go-no-go-wave1/uptime"
    location: Mapped[str] = mapped_column(String(64), default="")  # "" = the programme
    wave: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(8))  # risk | issue
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))  # high | medium | low
    owner: Mapped[str] = mapped_column(String(255))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    decision: Mapped[bool] = mapped_column(Boolean, default=False)  # a decision is needed from the owner
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
