"""Program: location lifecycle, transitions, guard overrides, integration-validation results
(tasks/program/records.py).

Revision ID: 0006_program
Revises: 0005_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_program"
down_revision = "0005_runs"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "program_locations",
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("paused_from", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("remediation", sa.JSON(), nullable=True),
        sa.Column("go_live_on", sa.Date(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("location_id", name="pk_program_locations"),
    )
    op.create_table(
        "program_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step_key", sa.String(255), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_program_events"),
    )
    op.create_index("ix_program_events_location", "program_events", ["location_id"])
    op.create_index("ix_program_events_to_day", "program_events", ["to_state", "on_day"])
    op.create_table(
        "program_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guard", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step_key", sa.String(255), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_program_overrides"),
    )
    op.create_index("ix_program_overrides_guard_subject", "program_overrides", ["guard", "subject"])
    op.create_table(
        "program_validations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_program_validations"),
    )
    op.create_index("ix_program_validations_location", "program_validations", ["location_id"])


def downgrade() -> None:
    op.drop_index("ix_program_validations_location", table_name="program_validations")
    op.drop_table("program_validations")
    op.drop_index("ix_program_overrides_guard_subject", table_name="program_overrides")
    op.drop_table("program_overrides")
    op.drop_index("ix_program_events_to_day", table_name="program_events")
    op.drop_index("ix_program_events_location", table_name="program_events")
    op.drop_table("program_events")
    op.drop_table("program_locations")
