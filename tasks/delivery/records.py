"""The store table of deliveries (migration 0010_documents): one row per idempotency key.

A row is written *before* a message leaves (state `sending`) and updated after (`sent`, `failed`).
A row found still `sending` on a resume means the process stopped between handing the message to
the channel and recording it: it may have arrived, so it is never sent again (`unconfirmed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("uq_deliveries_key", "idempotency_key", unique=True),
        Index("ix_deliveries_run", "run_key", "step_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(255))
    step_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))  # email | webhook:<name> | outbox
    state: Mapped[str] = mapped_column(String(16))  # sending | sent | failed | unconfirmed
    message_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    recipients: Mapped[list[Any]] = mapped_column(JSON)  # names and addresses (staff only)
    attachments: Mapped[list[Any]] = mapped_column(JSON)  # [{name, sha256, size}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
