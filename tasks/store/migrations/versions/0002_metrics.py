"""Baseline metrics imported from location CSV exports (planning).

Revision ID: 0002_metrics
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_metrics"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "baseline_metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_baseline_metrics"),
        sa.UniqueConstraint(
            "location_id", "metric", "period_start", "period_end", name="uq_baseline_metrics_key"
        ),
    )
    op.create_index("ix_baseline_metrics_location_id", "baseline_metrics", ["location_id"])


def downgrade() -> None:
    op.drop_index("ix_baseline_metrics_location_id", table_name="baseline_metrics")
    op.drop_table("baseline_metrics")
