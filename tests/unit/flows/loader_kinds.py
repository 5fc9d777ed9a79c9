"""A frozen step-kind registry for the loader tests, so golden output does not move when kinds are added."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
KIND_SCHEMAS = FIXTURES / "kinds"

_EXPRESSION_FIELDS = {"checklist": frozenset({"check"}), "expect": frozenset({"that"})}

TEST_KINDS: dict[str, Any] = {
    p.name.removesuffix(".schema.json"): SimpleNamespace(
        name=p.name.removesuffix(".schema.json"),
        expression_fields=_EXPRESSION_FIELDS.get(p.name.removesuffix(".schema.json"), frozenset()),
    )
    for p in sorted(KIND_SCHEMAS.glob("*.schema.json"))
}
_SCHEMAS: dict[str, dict[str, Any]] = {
    name: json.loads((KIND_SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    for name in TEST_KINDS
}


def kind_schema_for(name: str) -> dict[str, Any] | None:
    return _SCHEMAS.get(name)
