"""JSON Schema errors mapped onto YAML positions, with readable messages and hints."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from golive.tasks.foundation.schema_check import (
    GoliveValidator,
    inline_local_refs,
    json_path,
    load_schema,
    readable_path,
    schema_issues,
)
from golive.tasks.foundation.yamlsafe import load_yaml_text

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z]+$"},
        "code": {"type": "string", "pattern": "^[A-Z]+$", "x-error": "must be upper case"},
        "mode": {"enum": ["fast", "slow"]},
        "version": {"const": "v1"},
        "wait": {"type": ["string", "number"], "x-duration": True},
        "due": {"type": "string", "x-due": True},
        "either": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string"},
                    "count": {"type": "integer", "minimum": 0, "maximum": 9},
                },
            },
        },
        "labels": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
    },
}


def _issues(text: str, schema: dict[str, Any] = SCHEMA, **kw: Any) -> list[str]:
    doc = load_yaml_text(text, "f.yaml")
    return [i.format() for i in schema_issues(doc, schema, "f.yaml", **kw)]


def test_valid_document_has_no_issues() -> None:
    assert (
        _issues("name: abc\nitems:\n  - id: x\n    count: 3\nwait: 5m\ndue: week 2 day 3\neither: '12'\n")
        == []
    )


def test_all_errors_are_collected_in_file_order() -> None:
    text = "name: ABC\nitems:\n  - id: 1\n    count: 12\n  - cnt: 1\nmode: fats\nextra: 1\n"
    assert _issues(text) == [
        "f.yaml:1:7: error: name: 'ABC' does not match the pattern ^[a-z]+$",
        "f.yaml:3:9: error: items[0].id: expected a string, got an integer",
        "f.yaml:4:12: error: items[0].count: must be at most 9, got 12",
        "f.yaml:5:5: error: items[1]: missing required key 'id'",
        "f.yaml:5:5: error: items[1]: unknown key 'cnt'\n    hint: did you mean 'count'?",
        "f.yaml:6:7: error: mode: 'fats' is not one of 'fast', 'slow'\n    hint: did you mean 'fast'?",
        "f.yaml:7:1: error: unknown key 'extra'\n    hint: allowed keys: name, code, mode, version, wait, due, either, items, labels",
    ]


def test_missing_key_is_reported_at_the_parent_key() -> None:
    schema = {"type": "object", "properties": {"meta": {"type": "object", "required": ["name"]}}}
    assert _issues("other: 1\nmeta:\n  title: x\n", schema) == [
        "f.yaml:2:1: error: meta: missing required key 'name'"
    ]
    assert _issues("items: []\n") == [
        "f.yaml:1:1: error: missing required key 'name'",
        "f.yaml:1:8: error: items: must not be empty",
    ]


def test_x_error_replaces_the_pattern() -> None:
    assert _issues("name: a\nitems: [{id: x}]\ncode: abc\n") == [
        "f.yaml:3:7: error: code: 'abc' must be upper case"
    ]


def test_const_and_type_messages() -> None:
    assert _issues("name: a\nitems: [{id: x}]\nversion: v2\n") == [
        "f.yaml:3:10: error: version: expected 'v1', got 'v2'"
    ]
    assert _issues("name: a\nitems: {id: x}\n") == [
        "f.yaml:2:8: error: items: expected a list, got a mapping"
    ]


def test_duration_and_due_keywords() -> None:
    assert _issues("name: a\nitems: [{id: x}]\nwait: soon\ndue: tomorrow\n") == [
        "f.yaml:3:7: error: wait: 'soon' is not a duration (use e.g. 30s, 5m, 2h, 7d, or seconds as a number)",
        "f.yaml:4:6: error: due: 'tomorrow' is not a due date (use 'week 1 day 3', 'week 2' or 'day 10')",
    ]
    assert _issues("name: a\nitems: [{id: x}]\nwait: 90\n") == []
    assert _issues("name: a\nitems: [{id: x}]\nwait: -1\n")[0].startswith(
        "f.yaml:3:7: error: wait: -1 is not a duration"
    )
    assert _issues("name: a\nitems: [{id: x}]\nwait: .inf\n")[0].startswith(
        "f.yaml:3:7: error: wait: inf is not"
    )


def test_any_of_reports_the_best_branch() -> None:
    assert _issues("name: a\nitems: [{id: x}]\neither: abc\n") == [
        "f.yaml:3:9: error: either: 'abc' does not match the pattern ^[0-9]+$"
    ]


def test_any_of_with_only_type_branches_names_all_types() -> None:
    schema = {"type": "object", "properties": {"v": {"anyOf": [{"type": "integer"}, {"type": "array"}]}}}
    assert _issues("v: abc\n", schema) == [
        "f.yaml:1:4: error: v: expected an integer or a list, got a string"
    ]


def test_property_names_reported_at_the_key() -> None:
    assert _issues("name: a\nitems: [{id: x}]\nlabels:\n  ok: 1\n  Bad: 2\n") == [
        "f.yaml:5:3: error: labels: key 'Bad' is not allowed: 'Bad' does not match '^[a-z]+$'"
    ]


def test_at_checks_a_sub_document_with_file_positions() -> None:
    doc = load_yaml_text("steps:\n  - id: a\n    with:\n      that: 1\n      extra: 2\n", "f.yaml")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["that", "message"],
        "properties": {"that": {"type": "string"}, "message": {"type": "string"}},
    }
    issues = schema_issues(doc, schema, "f.yaml", at=("steps", 0, "with"))
    assert [i.format() for i in issues] == [
        "f.yaml:3:5: error: steps[0].with: missing required key 'message'",
        "f.yaml:4:13: error: steps[0].with.that: expected a string, got an integer",
        "f.yaml:5:7: error: steps[0].with: unknown key 'extra'\n    hint: allowed keys: that, message",
    ]
    assert issues[1].json_path == "$.steps[0].with.that"


def test_deferred_values_skip_type_errors() -> None:
    schema = {"type": "object", "properties": {"to": {"type": "array"}, "n": {"type": "integer"}}}
    doc = load_yaml_text("to: '{{ x }}'\nn: 'not {{ x }}'\n", "f.yaml")
    issues = schema_issues(doc, schema, "f.yaml", deferred=lambda s: s.startswith("{{"))
    assert [i.message for i in issues] == ["n: expected an integer, got a string"]


def test_json_paths() -> None:
    assert json_path(("steps", 2, "with", "items", 0)) == "$.steps[2].with.items[0]"
    assert json_path(("a b", "report.render")) == '$["a b"]["report.render"]'
    assert readable_path(()) == "" and readable_path(("steps", 0)) == "steps[0]"
    assert readable_path((0, "x")) == "[0].x"


def test_load_schema_reads_files_under_schemas() -> None:
    schema = load_schema("runbook.schema.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert load_schema("steps/expect.schema.json")["title"] == "expect"
    with pytest.raises(ValueError, match="outside"):
        load_schema("../pyproject.toml")


def test_runbook_schema_is_valid_and_documents_every_field() -> None:
    schema = load_schema("runbook.schema.json")
    Draft202012Validator.check_schema(schema)
    undocumented: list[str] = []

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                undocumented.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")
        for name, sub in node.get("$defs", {}).items():
            walk(sub, f"$defs.{name}")
        for key in ("items", "additionalProperties"):
            walk(node.get(key), f"{where}.{key}")

    walk(schema, "$")
    assert undocumented == []


def test_inline_local_refs() -> None:
    schema = {
        "$defs": {"id": {"type": "string", "description": "an id"}, "n": {"type": "integer"}},
        "properties": {
            "a": {"$ref": "#/$defs/id", "description": "the a"},
            "b": {"$ref": "#/$defs/n", "type": "number"},
        },
    }
    flat = inline_local_refs(schema)
    assert flat["properties"]["a"] == {"type": "string", "description": "the a"}
    assert flat["properties"]["b"] == {"allOf": [{"type": "integer"}], "type": "number"}
    recursive = {"$defs": {"t": {"items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"}
    assert inline_local_refs(recursive) is recursive
    remote = {"$defs": {}, "items": {"$ref": "https://example.invalid/x.json"}}
    assert inline_local_refs(remote) is remote
    assert Draft202012Validator(flat).is_valid({"a": "x", "b": 2})
    assert not Draft202012Validator(flat).is_valid({"b": 2.5})


def test_inlined_runbook_schema_gives_the_same_errors() -> None:
    doc = load_yaml_text(
        "apiVersion: v2\nkind: Runbook\nmetadata: {name: Bad, x: 1}\n"
        "steps:\n  - {id: a, uses: x, retries: -1, timeout: 5 min, due: soon, undo: {with: 1}}\n",
        "f.yaml",
    )
    schema = load_schema("runbook.schema.json")

    def verdicts(s: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = GoliveValidator(s).iter_errors(doc)
        return sorted((json_path(tuple(e.absolute_path)), str(e.validator), e.message) for e in found)

    assert verdicts(inline_local_refs(schema)) == verdicts(schema)
    assert len(verdicts(schema)) == 8
