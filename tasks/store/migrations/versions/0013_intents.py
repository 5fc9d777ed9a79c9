"""Intents of effects outside the store, one row per idempotency key (tasks/store/intents.py):
committed before a DICOM send, a PMS upload or a platform API call, reconciled on resume.

Revision ID: 0013_intents
Revises: 0012_scale
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_intents"
down_revision = "0013_phases"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "intents",
        sa.Column("idem_key", sa.String(64), nullable=False),
        sa.Column("run_key", sa.String(255), nullable=False),
        sa.Column("step_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("idem_key", name="pk_intents"),
    )
    op.create_index("ix_intents_run", "intents", ["run_key", "step_key"])


def downgrade() -> None:
    op.drop_index("ix_intents_run", table_name="intents")
    op.drop_table("intents")
