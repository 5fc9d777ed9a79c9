"""A shared installation: at most one open rollback per location (a partial unique index), so two
watch runs at once cannot both open one (tasks/gates/records.py, `open_rollback`'s upsert).

Revision ID: 0012_scale
Revises: 0010_documents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_scale"
down_revision = "0010_documents"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    # Rollbacks opened twice before this index existed: keep the oldest open one per location
    # open, close the later copies (their history stays).
    op.execute(sa.text(
        "UPDATE rollbacks SET state = 'closed', closed_at = triggered_at WHERE state = 'open' AND id NOT IN "
        "(SELECT MIN(id) FROM rollbacks WHERE state = 'open' GROUP BY location_id)"))
    op.create_index("uq_rollbacks_open_location", "rollbacks", ["location_id"], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_rollbacks_open_location", table_name="rollbacks")
