"""Deliveries of messages and documents, one row per idempotency key (tasks/delivery/records.py),
and the risk and issue register (tasks/register/records.py).

Revision ID: 0010_documents
Revises: 0011_collect
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_documents"
down_revision = "0011_collect"
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
    op.create_table(
        "risk_register",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("wave", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_risk_register"),
    )
    op.create_index("uq_risk_register_subject", "risk_register", ["source", "subject", "location"], unique=True)
    op.create_index("ix_risk_register_status", "risk_register", ["status", "due"])


def downgrade() -> None:
    op.drop_index("ix_risk_register_status", table_name="risk_register")
    op.drop_index("uq_risk_register_subject", table_name="risk_register")
    op.drop_table("risk_register")
    op.drop_index("ix_deliveries_run", table_name="deliveries")
    op.drop_index("uq_deliveries_key", table_name="deliveries")
    op.drop_table("deliveries")
