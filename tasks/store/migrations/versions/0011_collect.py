"""Metric collection ledger: per (location, metric, day) which source and query produced the
sample, or that it is missing (tasks/gates/records.py, MetricCollectionRow).

Revision ID: 0011_collect
Revises: 0006_program
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_collect"
down_revision = "0006_program"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_collections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("collected_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_collections"),
    )
    op.create_index("uq_metric_collections_key", "metric_collections", ["location_id", "metric", "day"], unique=True)
    op.create_index("ix_metric_collections_metric_day", "metric_collections", ["metric", "day"])


def downgrade() -> None:
    op.drop_index("ix_metric_collections_metric_day", table_name="metric_collections")
    op.drop_index("uq_metric_collections_key", table_name="metric_collections")
    op.drop_table("metric_collections")
