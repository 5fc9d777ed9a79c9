"""The golive store: SQLAlchemy 2 + Alembic over SQLite (default) or PostgreSQL.

store = Store.open()            # GOLIVE_DATABASE_URL or .golive/golive.db, migrated
store.start_run(run_id=..., run_key=..., runbook=..., parameters={...})
store.record_step(...); store.last_completed(run_key, step_key)
store.audit.append("step.completed", {"step": "kickoff"}, run_id=...)
store.audit.verify()            # AuditVerification(ok, count, first_bad_seq, reason)
"""

from __future__ import annotations

from golive.tasks.store.audit import AuditLog, AuditVerification
from golive.tasks.store.database import default_url
from golive.tasks.store.records import ApprovalRecord, RunRecord, StepRecord
from golive.tasks.store.store import Store, verify_report

__all__ = [
    "ApprovalRecord",
    "AuditLog",
    "AuditVerification",
    "RunRecord",
    "StepRecord",
    "Store",
    "default_url",
    "verify_report",
]
