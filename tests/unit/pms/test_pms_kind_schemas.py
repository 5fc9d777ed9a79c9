from __future__ import annotations

import json

import jsonschema
import pytest

from golive.tasks.foundation.paths import STEP_SCHEMAS
from golive.tasks.pms.kinds import KINDS
from golive.tasks.registry import STEP_KINDS


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_kind_is_registered_with_a_strict_schema(kind: object) -> None:
    name = kind.name  # type: ignore[attr-defined]
    assert STEP_KINDS[name].implementation() is kind
    schema = json.loads((STEP_SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False and "location" in schema["required"]
    assert all(p.get("description") for p in schema["properties"].values())
    v = jsonschema.Draft202012Validator(schema)
    assert not v.is_valid({"location": "x", "connection": {"secret": "literal-key"}})  # secrets are references
    assert not v.is_valid({"location": "x", "bogus": 1})


def test_write_kinds_are_side_effecting() -> None:
    effects = {k.name: STEP_KINDS[k.name].side_effects for k in KINDS}
    assert effects["pms.writeback"] and effects["pms.attachment"] and not effects["pms.patient_read"]
