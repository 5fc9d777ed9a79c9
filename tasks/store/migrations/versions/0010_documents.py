"""Deliveries of messages and documents, one row per idempotency key (tasks/delivery/records.py).

Revision ID: 0010_documents
Revises: 0007_compliance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_documents"
down_revision = "0007_compliance"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("run_key", sa.String(255), nullable=False),
        sa.Column("step_key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index("uq_deliveries_key", "deliveries", ["idempotency_key"], unique=True)
    op.create_index("ix_deliveries_run", "deliveries", ["run_key", "step_key"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_run", table_name="deliveries")
    op.drop_index("uq_deliveries_key", table_name="deliveries")
    op.drop_table("deliveries")
