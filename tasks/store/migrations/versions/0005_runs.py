"""Run leases: one live run per run key (tasks/store/leases.py).

Revision ID: 0005_runs
Revises: 0007_compliance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_runs"
down_revision = "0007_compliance"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "run_leases",
        sa.Column("run_key", sa.String(255), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("run_key", name="pk_run_leases"),
    )


def downgrade() -> None:
    op.drop_table("run_leases")
