"""The registry and the schema files agree, as httpx's exported-members test does for __all__."""

from __future__ import annotations

import json

from flows import paths
from tasks.registry import STEP_KINDS


def test_every_kind_has_a_schema_and_every_schema_a_kind() -> None:
    schema_names = {p.name.removesuffix(".schema.json") for p in paths.STEP_SCHEMAS.glob("*.schema.json")}
    assert schema_names == set(STEP_KINDS)


def test_step_schemas_are_strict_and_documented() -> None:
    from jsonschema import Draft202012Validator

    for name in STEP_KINDS:
        schema = json.loads((paths.STEP_SCHEMAS / f"{name}.schema.json").read_text())
        Draft202012Validator.check_schema(schema)
        assert schema.get("additionalProperties") is False, name
        assert schema.get("description"), name


def test_kind_names_match_registry_keys() -> None:
    for name, kind in STEP_KINDS.items():
        assert kind.name == name and kind.summary
