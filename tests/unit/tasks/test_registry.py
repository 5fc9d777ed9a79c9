"""The registry and the schema files agree, as httpx's exported-members test does for __all__."""

from __future__ import annotations

import json

from golive.tasks.foundation import paths
from golive.tasks.registry import STEP_KINDS


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


def test_every_kind_loads_from_its_module_and_every_module_kind_is_registered() -> None:
    import importlib

    for name, spec in STEP_KINDS.items():
        assert spec.implementation().name == name
    modules = {spec.module for spec in STEP_KINDS.values()}
    for module in modules:
        for kind in importlib.import_module(module).KINDS:
            assert STEP_KINDS[kind.name].module == module, f"{module} implements unregistered {kind.name}"


def test_validating_imports_no_kind_implementation() -> None:
    """`golive validate` must stay light: the registry imports no kind module (torch, scipy, ...)."""
    import subprocess
    import sys

    code = ("import sys; from golive.flows.engine.validate import validate_file; "
            "from golive.tasks.foundation import paths; "
            "[validate_file(p) for p in sorted(paths.RUNBOOKS.glob('*.yaml'))]; "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'monai', 'scipy', 'highdicom') "
            "or m.endswith('.kinds')); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
