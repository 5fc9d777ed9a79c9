"""The store table for compliance evidence (migration 0007_compliance).

One row per piece of evidence: a supplied document (its file kept content-addressed under
`GOLIVE_HOME/evidence/`, identified by its SHA-256), an automated check's report (also a file, also
hashed), or a request the group waits on (a vendor action with a due date). Rows are only added,
never updated: the latest row per (subject, location) is the current state, older rows are history.
No PHI: documents are agreements and attestations; check reports name staff accounts and the
designated test patient only as "the test patient".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from golive.tasks.store.base import Base
from golive.tasks.store.models import UTCDateTime


class EvidenceRow(Base):
    __tablename__ = "compliance_evidence"
    __table_args__ = (
        # The same file for the same subject and location is one piece of evidence: recording it
        # again (a re-run, a second `evidence add`) finds the row instead of adding another.
        Index("uq_compliance_evidence_file", "subject", "location", "kind", "sha256", unique=True),
        Index("ix_compliance_evidence_subject_location", "subject", "location", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(64))  # a requirement id or another tracked subject
    location: Mapped[str] = mapped_column(String(64), default="")  # "" = the whole organization
    kind: Mapped[str] = mapped_column(String(16))  # document | check | request
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | passed | failed | pending
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    supplied_by: Mapped[str] = mapped_column(String(255))
    supplied_role: Mapped[str] = mapped_column(String(64))
    supplied_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # attestations; due date of a request
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)  # a check's result in brief; a note
