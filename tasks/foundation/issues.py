"""Validation issues with their position, formatted as `PATH:LINE:COL: error: MESSAGE`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class ValidationIssue:
    """One problem found in a file. Lines and columns are 1-based, as editors show them."""

    path: str
    line: int
    column: int
    message: str
    json_path: str = ""
    severity: Severity = Severity.ERROR
    hint: str | None = field(default=None, compare=False)

    def format(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.severity.value}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text
