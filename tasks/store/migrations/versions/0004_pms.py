"""PMS write-back idempotency keys (tasks/pms/records.py).

Revision ID: 0004_pms
Revises: 0003_gates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_pms"
down_revision = "0003_gates"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pms_writebacks",
        sa.Column("idem_key", sa.String(64), nullable=False),
        sa.Column("runbook", sa.String(255), nullable=False),
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("step", sa.String(255), nullable=False),
        sa.Column("patient_pseudonym", sa.String(64), nullable=False),
        sa.Column("plan_version", sa.String(64), nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_plan_id", sa.String(64), nullable=True),
        sa.Column("attached", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("idem_key", name="pk_pms_writebacks"),
    )
    op.create_index("ix_pms_writebacks_location", "pms_writebacks", ["location"])


def downgrade() -> None:
    op.drop_index("ix_pms_writebacks_location", table_name="pms_writebacks")
    op.drop_table("pms_writebacks")
