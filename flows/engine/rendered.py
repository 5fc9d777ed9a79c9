"""Checks a step's `with:` again after rendering: templates can only be type-checked at run time."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match

from golive.flows.engine.semantic import default_kind_schema
from golive.tasks.foundation.errors import ExpressionError
from golive.tasks.foundation.schema_check import GoliveValidator


@lru_cache(maxsize=256)
def _validator(kind: str) -> GoliveValidator | None:
    schema = default_kind_schema(kind)
    return GoliveValidator(schema) if schema is not None else None  # with x-duration / x-due checks


def check_rendered(kind: str, step_key: str, params: dict[str, Any]) -> None:
    validator = _validator(kind)
    if validator is None:
        return
    error = best_match(validator.iter_errors(params))
    if error is not None:
        where = "with." + ".".join(str(p) for p in error.absolute_path) if error.absolute_path else "with"
        raise ExpressionError(f"{step_key}: {where} after rendering: {error.message}")
