"""Fuzzing the loader: whatever the input, validation ends in a Runbook or RunbookInvalid, nothing else.

Also checks that the fast libyaml path and ruamel's own parser agree on every document they both
accept (same data, same positions), and that they agree on what is an error.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from golive.flows.engine.model import Runbook
from golive.flows.engine.validate import validate_file, validate_text
from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.yamlsafe import (
    DEFAULT_LIMITS,
    _Fallback,
    _parse_libyaml,
    _parse_ruamel,
    _Refused,
)
from tests.unit.flows.loader_kinds import TEST_KINDS, kind_schema_for

# Seeded in `make test` (the "ci" profile in tests/conftest.py derandomizes); HYPOTHESIS_PROFILE=explore
# draws new inputs and runs longer.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# A deprecated use of Hypothesis fails here rather than scrolling past as a warning.
pytestmark = pytest.mark.filterwarnings("error::hypothesis.errors.HypothesisDeprecationWarning")

BASE: dict[str, Any] = {
    "apiVersion": "golive/v1",
    "kind": "Runbook",
    "metadata": {"name": "fuzz", "title": "Fuzz", "owner": "VP of IT"},
    "parameters": {
        "wave": {"type": "integer", "minimum": 1, "default": 1},
        "sites": {"type": "array", "items": {"type": "string"}, "default": ["a"]},
    },
    "steps": [
        {
            "id": "scan",
            "uses": "expect",
            "with": {"that": "params.wave > 0", "message": "w {{ params.wave }}"},
        },
        {
            "id": "per-site",
            "uses": "notify",
            "needs": ["scan"],
            "for_each": "params.sites",
            "when": "item != 'x'",
            "timeout": "5m",
            "retries": 2,
            "retry_delay": "30s",
            "due": "week 1 day 3",
            "on_failure": "rollback",
            "with": {"to": ["CDO"], "message": "{{ item }} {{ steps.scan.outputs }}"},
            "undo": {"uses": "notify", "with": {"to": ["CDO"], "message": "undo {{ item }}"}},
        },
        {
            "id": "checks",
            "uses": "checklist",
            "needs": ["per-site"],
            "with": {
                "items": [
                    {"id": "one", "text": "t", "check": "steps.scan.outputs.ok"},
                    {"id": "two", "text": "x"},
                ]
            },
        },
    ],
    "on_failure": [{"id": "tell", "uses": "notify", "with": {"to": ["CDO"], "message": "{{ run.id }}"}}],
}

YAML_CHARS = st.sampled_from(
    list(" \n\r\t:-[]{},&*!|>'\"#%@`?~=.0123456789abcxyz_/\\") + ["\u00e9", "\x00", "\u2028"]
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
expressions = st.sampled_from(
    [
        "params.wave",
        "params.nope",
        "steps.scan.outputs.ok",
        "steps.checks.outputs",
        "item",
        "{{ x }}",
        "a >",
        "",
        "{% if %}",
        "range(3) | list",
        "loop.index",
        "((((((((((1))))))))))",
        "x" * 200,
        "{{ item }} and {{ params.wave }}",
        "5m",
        "week 1 day 9",
        "-1",
        "CDO",
    ]
)


def _dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _check(text: str) -> None:
    try:
        result = validate_text(text, "fuzz.yaml", kinds=TEST_KINDS, kind_schema=kind_schema_for)
    except RunbookInvalid as exc:
        assert exc.issues, "RunbookInvalid without issues"
        for issue in exc.issues:
            assert issue.line >= 1 and issue.column >= 1 and issue.message
            issue.format()
        return
    assert isinstance(result, Runbook)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def test_the_base_runbook_is_valid() -> None:
    assert (
        validate_text(_dump(BASE), "base.yaml", kinds=TEST_KINDS, kind_schema=kind_schema_for).name == "fuzz"
    )


@FUZZ
@given(st.lists(YAML_CHARS, max_size=120).map("".join))
def test_arbitrary_text(text: str) -> None:
    _check(text)


@FUZZ
@given(st.data())
def test_mutated_runbooks(data: st.DataObject) -> None:
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(doc)[1:]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "expression", "delete", "add", "rename"]))
        last = path[-1]
        if action == "replace":
            parent[last] = data.draw(json_values)
        elif action == "expression":
            parent[last] = data.draw(expressions)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[
                data.draw(st.sampled_from(["id", "uses", "needs", "with", "x", "item", "that", "check"]))
            ] = data.draw(json_values | expressions)
        elif action == "rename" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = parent.pop(last)
    _check(_dump(doc))


@FUZZ
@given(st.data())
def test_byte_mutations_of_a_valid_file(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    raw = bytearray(_dump(BASE).encode())
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(raw)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(
            st.binary(min_size=1, max_size=4) | st.sampled_from([b": ", b"\t", b"&a", b"*a", b"- ", b"\n  "])
        )
        if op == "insert":
            raw[at:at] = chunk
        elif op == "delete":
            del raw[at : at + len(chunk)]
        else:
            raw[at : at + len(chunk)] = chunk
    path = Path(tmp_path_factory.getbasetemp()) / "fuzz.yaml"
    path.write_bytes(bytes(raw))
    try:
        validate_file(path, kinds=TEST_KINDS, kind_schema=kind_schema_for)
    except RunbookInvalid as exc:
        assert exc.issues


def _positions(value: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    if isinstance(value, CommentedMap):
        out[prefix] = (value.lc.line, value.lc.col)
        for k in value:
            if k in value.lc.data:
                # An empty value sits after its key for libyaml, at the next token for ruamel;
                # golive reports libyaml's (on the key's line). Compare key positions only.
                data = tuple(value.lc.data[k])
                out[(*prefix, "key", k)] = data[:2] if value[k] is None else data
            out.update(_positions(value[k], (*prefix, k)))
    elif isinstance(value, CommentedSeq):
        out[prefix] = (value.lc.line, value.lc.col)
        for i, v in enumerate(value):
            if v is not None:
                out[(*prefix, "item", i)] = tuple(value.lc.data[i])
            out.update(_positions(v, (*prefix, i)))
    return out


def _outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        doc = parse(text, DEFAULT_LIMITS)
    except _Fallback:
        return ("fallback", None)
    except _Refused as exc:
        return ("refused", sorted(exc.issues))
    except Exception as exc:  # noqa: BLE001 - the comparison is the point
        return ("error", type(exc).__name__)
    return ("ok", (json.dumps(doc, sort_keys=True, default=repr), _positions(doc)))


structured = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["yes", "0o17", "1_000", "~", ".inf", "2026-01-05", "<<", "=", "0x1F"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(
    structured,
    st.sampled_from([None, True, False]),
    st.lists(YAML_CHARS, max_size=6).map("".join),
    st.integers(0, 400),
)
def test_fast_parser_agrees_with_ruamel(value: Any, flow: bool | None, noise: str, at: int) -> None:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump({"root": value, "anchored": [1, 2]}, out)
    text = out.getvalue()
    if noise:
        at = min(at, len(text))
        text = text[:at] + noise + text[at:]
    fast = _outcome(_parse_libyaml, text)
    slow = _outcome(_parse_ruamel, text)
    if fast[0] in ("fallback", "refused"):
        return  # the real loader then asks ruamel: nothing to compare
    if fast[0] == "ok" and slow[0] != "ok":
        pytest.fail(f"libyaml accepted what ruamel refuses ({slow}): {text!r}")
    assert fast == slow, text
