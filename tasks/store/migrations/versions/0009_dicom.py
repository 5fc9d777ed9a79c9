"""DICOM receiver: bytes received per location and local day, for the per-day size limit
(tasks/imaging/usage.py).

Revision ID: 0009_dicom
Revises: 0004_pms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_dicom"
down_revision = "0004_pms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dicom_daily_usage",
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("location", "day", name="pk_dicom_daily_usage"),
    )


def downgrade() -> None:
    op.drop_table("dicom_daily_usage")
