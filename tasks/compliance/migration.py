"""Historical data migration: the sample validation with counts, and the failed-records log.

Two small CSV files with a header `category,count` (by case type, by month, as the scope was
defined): what the source system holds and what the platform reports after the bulk upload. Every
category must match, or its shortfall be accounted for by the vendor's failed-records log. That log
may carry patient identifiers, so golive never reads its content: it counts its data lines and
keeps its SHA-256, which is what the checklist's "document any data that failed migration" needs.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from golive.tasks.foundation.errors import UserInputError


@dataclass(frozen=True)
class CategoryCount:
    category: str
    source: int
    migrated: int

    @property
    def missing(self) -> int:
        return self.source - self.migrated


@dataclass(frozen=True)
class MigrationCheck:
    categories: tuple[CategoryCount, ...]
    failed_records: int | None  # data lines of the failed-records log; None without a log
    failed_log_sha256: str | None
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "problems": list(self.problems),
                "source_total": sum(c.source for c in self.categories),
                "migrated_total": sum(c.migrated for c in self.categories),
                "failed_records": self.failed_records, "failed_log_sha256": self.failed_log_sha256,
                "categories": [{"category": c.category, "source": c.source, "migrated": c.migrated,
                                "missing": c.missing} for c in self.categories]}


def read_counts(path: Path) -> dict[str, int]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such counts file") from None
    if not rows or [c.strip().lower() for c in rows[0]] != ["category", "count"]:
        raise UserInputError(f"{path}:1:1: error: expected the header 'category,count'")
    counts: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[1].strip().isdigit():
            raise UserInputError(f"{path}:{line}:1: error: expected 'category,count' with a whole number")
        name = row[0].strip()
        if name in counts:
            raise UserInputError(f"{path}:{line}:1: error: category {name!r} repeats")
        counts[name] = int(row[1])
    return counts


def _log_lines(path: Path) -> tuple[int, str]:
    """Data lines (after a header line) and SHA-256 of the failed-records log, without keeping its content."""
    digest, lines = hashlib.sha256(), 0
    with path.open("rb") as f:
        for raw in f:
            digest.update(raw)
            lines += bool(raw.strip())
    return max(lines - 1, 0), digest.hexdigest()


def reconcile(source: Path, migrated: Path, failed_log: Path | None) -> MigrationCheck:
    src, done = read_counts(source), read_counts(migrated)
    categories = tuple(CategoryCount(c, src.get(c, 0), done.get(c, 0)) for c in sorted(set(src) | set(done)))
    problems = [f"{c.category}: {c.migrated} migrated but the source holds {c.source}" for c in categories
                if c.migrated > c.source]
    if failed_log is not None and not failed_log.is_file():
        raise UserInputError(f"{failed_log}: no such failed-records log")
    failed, digest = _log_lines(failed_log) if failed_log is not None else (None, None)
    shortfall = sum(max(c.missing, 0) for c in categories)
    if shortfall and failed is None:
        problems.append(f"{shortfall} record(s) missing and no failed-records log to account for them")
    elif failed is not None and failed != shortfall:
        problems.append(f"{shortfall} record(s) missing but the failed-records log lists {failed}")
    if not categories:
        problems.append("no categories to compare: not verified")
    return MigrationCheck(categories, failed, digest, tuple(problems))
