"""The stored plan's phases (tasks/program/records.py, ProgramPhaseRow): pre-implementation and
each wave with its planned start, first go-live and end, as the readiness assessment's calendar
set them.

Revision ID: 0013_phases
Revises: 0012_scale
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_phases"
down_revision = "0012_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_phases",
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("first_go_live", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phase", name="pk_program_phases"),
    )


def downgrade() -> None:
    op.drop_table("program_phases")
