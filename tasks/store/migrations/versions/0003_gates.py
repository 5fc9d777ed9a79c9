"""Gate tables: verdicts with evidence, availability probe samples, daily metric series,
rollbacks and each location's rollout status.

Revision ID: 0003_gates
Revises: 0002_metrics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_gates"
down_revision = "0002_metrics"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gate_verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gate", sa.String(255), nullable=False),
        sa.Column("runbook", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step_key", sa.String(255), nullable=False),
        sa.Column("wave", sa.String(64), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_verdicts"),
    )
    op.create_index("ix_gate_verdicts_run_id", "gate_verdicts", ["run_id"])
    op.create_index("ix_gate_verdicts_gate_as_of", "gate_verdicts", ["gate", "as_of"])

    op.create_table(
        "availability_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_availability_samples"),
    )
    op.create_index("ix_availability_samples_location_checked", "availability_samples", ["location_id", "checked_at"])

    op.create_table(
        "gate_daily_metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_daily_metrics"),
    )
    op.create_index("uq_gate_daily_metrics_key", "gate_daily_metrics", ["location_id", "metric", "day", "source"], unique=True)
    op.create_index("ix_gate_daily_metrics_metric_day", "gate_daily_metrics", ["metric", "day"])

    op.create_table(
        "rollbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("triggered_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rollbacks"),
    )
    op.create_index("ix_rollbacks_location_state", "rollbacks", ["location_id", "state"])

    op.create_table(
        "location_rollout",
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("wave", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("workflow", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("location_id", name="pk_location_rollout"),
    )


def downgrade() -> None:
    op.drop_table("location_rollout")
    op.drop_index("ix_rollbacks_location_state", table_name="rollbacks")
    op.drop_table("rollbacks")
    op.drop_index("ix_gate_daily_metrics_metric_day", table_name="gate_daily_metrics")
    op.drop_index("uq_gate_daily_metrics_key", table_name="gate_daily_metrics")
    op.drop_table("gate_daily_metrics")
    op.drop_index("ix_availability_samples_location_checked", table_name="availability_samples")
    op.drop_table("availability_samples")
    op.drop_index("ix_gate_verdicts_gate_as_of", table_name="gate_verdicts")
    op.drop_index("ix_gate_verdicts_run_id", table_name="gate_verdicts")
    op.drop_table("gate_verdicts")
