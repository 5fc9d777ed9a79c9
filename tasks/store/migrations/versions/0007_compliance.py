"""Compliance evidence: documents, automated check reports and awaited vendor actions (tasks/compliance/records.py).

Revision ID: 0007_compliance
Revises: 0009_dicom
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_compliance"
down_revision = "0009_dicom"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "compliance_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("supplied_by", sa.String(255), nullable=False),
        sa.Column("supplied_role", sa.String(64), nullable=False),
        sa.Column("supplied_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_compliance_evidence"),
    )
    op.create_index("uq_compliance_evidence_file", "compliance_evidence",
                    ["subject", "location", "kind", "sha256"], unique=True)
    op.create_index("ix_compliance_evidence_subject_location", "compliance_evidence",
                    ["subject", "location", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_compliance_evidence_subject_location", table_name="compliance_evidence")
    op.drop_index("uq_compliance_evidence_file", table_name="compliance_evidence")
    op.drop_table("compliance_evidence")
