"""Evidence manifests: a YAML list of supplied documents, validated with positions before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.schema_check import load_schema, schema_issues
from golive.tasks.foundation.yamlsafe import load_yaml, position


class ManifestInvalid(RunbookInvalid):
    """An evidence manifest failed loading, its schema or its dates; issues carry positions."""


@dataclass(frozen=True)
class ManifestItem:
    subject: str
    file: Path
    supplied_by: str
    role: str
    supplied_on: date
    expires_on: date | None
    location: str
    note: str


def load_manifest(path: str | Path) -> list[ManifestItem]:
    name = str(path)
    try:
        doc = load_yaml(path)
    except RunbookInvalid as exc:
        raise ManifestInvalid(exc.issues) from None
    issues = schema_issues(doc, load_schema("compliance-evidence.schema.json"), name)
    if issues:
        raise ManifestInvalid(issues)
    base = Path(path).resolve().parent
    items: list[ManifestItem] = []
    for i, entry in enumerate(doc["evidence"]):
        dates: dict[str, date | None] = {}
        for key in ("date", "expires"):
            dates[key] = _date(entry.get(key), doc, ("evidence", i, key), name, issues)
        file = base / str(entry["file"])
        if not file.is_file():
            line, col = position(doc, ("evidence", i, "file"))
            issues.append(ValidationIssue(name, line, col, f"evidence[{i}].file: no such file {entry['file']!r}"))
        start, end = dates["date"], dates["expires"]
        if start and end and end <= start:
            line, col = position(doc, ("evidence", i, "expires"))
            issues.append(ValidationIssue(name, line, col, f"evidence[{i}].expires: {end} is not after {start}"))
        if start is not None:
            items.append(ManifestItem(str(entry["requirement"]), file, str(entry["supplied_by"]), str(entry["role"]),
                                      start, end, str(entry.get("location", "")), str(entry.get("note", ""))))
    if issues:
        raise ManifestInvalid(issues)
    return items


def _date(value: Any, doc: Any, where: tuple[str | int, ...], name: str, issues: list[ValidationIssue]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        line, col = position(doc, where)
        issues.append(ValidationIssue(name, line, col, f"{where[0]}[{where[1]}].{where[2]}: {value!r} is not a calendar date"))
        return None
