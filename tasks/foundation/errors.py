"""One exception tree for golive.

Every error golive raises on purpose inherits `GoliveError`; lower-layer errors (jsonschema,
ruamel, SQLAlchemy, httpx, pydicom) are translated at the boundary so callers catch one family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from golive.tasks.foundation.issues import ValidationIssue


class GoliveError(Exception):
    """Base of every error golive raises on purpose."""


class UserInputError(GoliveError):
    """The user's input (a file, a parameter, a flag) is wrong; the CLI exits 2, no traceback."""


class RunbookInvalid(UserInputError):
    """A runbook (or another YAML input) failed loading, schema or semantic checks."""

    def __init__(self, issues: Sequence[ValidationIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(i.format() for i in self.issues))


class ParameterError(UserInputError):
    """A run parameter is missing, unknown or does not match its declared schema."""


class ExpressionError(GoliveError):
    """A runbook expression failed to render at run time (undefined name, type error)."""


class StepFailed(GoliveError):
    """A step kind reports that its check failed (an `expect` that is false, a rejected approval)."""


class ApprovalRejected(StepFailed):
    """An approver rejected the step, or the approver's role is not allowed to decide it."""


class InputRequired(GoliveError):
    """A step needs a human decision and none was supplied (non-interactive CLI run)."""


class StoreError(GoliveError):
    """The store (SQLite or PostgreSQL) could not be opened, migrated or written."""


class AuditTampered(GoliveError):
    """The audit log's hash chain does not verify."""


class ConnectorError(GoliveError):
    """An external system (PMS, DICOM peer, HTTP endpoint) failed; subclasses say how."""
