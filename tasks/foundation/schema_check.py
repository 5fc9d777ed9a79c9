"""JSON Schema checks on loaded YAML, every error reported at its line and column.

`schema_issues(doc, schema, path)` validates a ruamel `CommentedMap` (as `golive.tasks.foundation.yamlsafe` loads
it) with Draft 2020-12, collects all errors and turns each into a `ValidationIssue` placed on the
offending node: a wrong value at the value, a missing key at the mapping's key, an unknown key at
that key with a did-you-mean hint. Where `anyOf`/`oneOf` fail, `best_match` picks the branch
error that explains it best.

Custom keywords (golive's own, ignored by other validators):
- `x-duration: true`: a string such as `30s`, `5m`, `2h`, `7d`, `1w`, or a number of seconds
  (`golive.tasks.foundation.durations.parse_duration` decides).
- `x-due: true`: a due date relative to the run start, e.g. `week 1 day 3`, `week 2`, `day 10`
  (`golive.tasks.foundation.durations.parse_due` decides).
- `x-redact: true` beside `x-error`: the message names "the value" instead of quoting it (secrets).
- `x-error: TEXT` beside `pattern`/`const`/`format`/`propertyNames`: the message shown instead
  of the regular expression.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.paths import SCHEMAS
from golive.tasks.foundation.yamlsafe import position, type_name

log = logging.getLogger(__name__)

PathPart = str | int


def _duration(
    validator: Any, enabled: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    from golive.tasks.foundation.durations import parse_duration  # the engine's parser is the one truth

    if not enabled or not isinstance(instance, str | int | float) or isinstance(instance, bool):
        return
    try:
        if not math.isfinite(parse_duration(instance)):
            raise ValueError("not finite")
    except (ValueError, TypeError):
        yield ValidationError(
            f"{instance!r} is not a duration (use e.g. 30s, 5m, 2h, 7d, or seconds as a number)"
        )


def _due(validator: Any, enabled: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    from golive.tasks.foundation.durations import parse_due

    if not enabled or not isinstance(instance, str):
        return
    try:
        parse_due(instance)
    except (ValueError, TypeError) as exc:
        detail = str(exc).split(" (", 1)[0] if "(" in str(exc) else str(exc)
        yield ValidationError(
            f"{instance!r} is not a due date (use 'week 1 day 3', 'week 2' or 'day 10')"
            if detail.startswith("not a due date")
            else f"{instance!r} is not a due date: {detail.split(': ', 1)[0]}"
        )


GoliveValidator = validators.extend(
    Draft202012Validator,
    {"x-duration": _duration, "x-due": _due},
)


def load_schema(name: str) -> dict[str, Any]:
    """A schema file under `schemas/` by relative path, e.g. `runbook.schema.json`,
    `steps/expect.schema.json`. Cached; treat the result as read-only."""
    return _load_schema(name)


@lru_cache(maxsize=128)
def _load_schema(name: str) -> dict[str, Any]:
    path = (SCHEMAS / name).resolve()
    if SCHEMAS.resolve() not in path.parents:
        raise ValueError(f"schema {name!r} is outside {SCHEMAS}")
    with path.open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


_validators: dict[int, tuple[dict[str, Any], Any]] = {}


def _validator(schema: dict[str, Any]) -> Any:
    # Keyed by identity (schemas are dicts, unhashable); the dict is kept alive beside it.
    hit = _validators.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    v = GoliveValidator(inline_local_refs(schema))
    if len(_validators) > 256:
        _validators.clear()
    _validators[id(schema)] = (schema, v)
    return v


def inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with each `{"$ref": "#/$defs/name", ...}` replaced by that definition.

    Same verdicts, about twice as fast on a large runbook (no reference lookups per step). A
    `$ref` whose siblings would overwrite a keyword of the definition becomes `allOf`; a
    recursive or non-local reference leaves the whole schema as it is.
    """
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    try:
        return _inline(schema, defs, ())
    except _KeepRefs:
        return schema


class _KeepRefs(Exception):
    """A reference that cannot be inlined (recursive, or not into `#/$defs`)."""


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(v, defs, seen) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline(v, defs, seen) for k, v in node.items() if k not in ("$ref", "$defs")}
    if "$defs" in node and not seen:
        out["$defs"] = node["$defs"]  # kept for anyone reading the schema; no longer referenced
    ref = node.get("$ref")
    if ref is None:
        return out
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        raise _KeepRefs
    name = ref.removeprefix("#/$defs/")
    if name not in defs or name in seen or "/" in name:
        raise _KeepRefs
    target = _inline(defs[name], defs, (*seen, name))
    if not isinstance(target, dict) or any(k in target and k not in _ANNOTATIONS for k in out):
        return {"allOf": [target], **out}
    return {**target, **out}


_ANNOTATIONS = frozenset(
    {"description", "title", "$comment", "examples", "deprecated", "readOnly", "writeOnly"}
)


def schema_issues(
    doc: Any,
    schema: dict[str, Any],
    path: str,
    *,
    at: Sequence[PathPart] = (),
    deferred: Callable[[str], bool] | None = None,
) -> list[ValidationIssue]:
    """Every error of the node at `at` inside `doc` against `schema`, positioned in `doc`.

    `path` is the file name written into the issues. `at` lets a sub-document (a step's `with:`)
    be checked against its own schema while positions and JSON paths stay those of the file.
    `deferred(s)` marks strings whose value is known only at run time (a `with:` value that is
    one `{{ expr }}` keeps the expression's native type): errors about such a value are dropped.
    """
    node = doc
    for part in at:
        node = node[part]
    issues: list[ValidationIssue] = []
    for error in _validator(schema).iter_errors(node):
        if deferred is not None and isinstance(error.instance, str) and deferred(error.instance):
            continue
        issues.extend(_issues_for(error, doc, tuple(at), path))
    unique = sorted(set(issues), key=lambda i: (i.line, i.column, i.message))
    return unique


def _issues_for(
    error: ValidationError, doc: Any, at: tuple[PathPart, ...], path: str
) -> list[ValidationIssue]:
    if error.validator in ("anyOf", "oneOf") and error.context and not _matched_several(error):
        best = best_match([error])  # descends into the branches, preferring those of the value's type
        if best is error and not all(e.validator == "type" for e in error.context):
            best = best_match(error.context)  # branches tie: take the most relevant one anyway
        if best is not None and best is not error:
            return _issues_for(best, doc, at, path)
    where = (*at, *error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_keys(error, doc, where, path)
    if "propertyNames" in error.relative_schema_path:
        key = error.instance
        line, column = position(doc, (*where, key), key=True)
        message = error.schema.get("x-error") if isinstance(error.schema, dict) else None
        return [
            ValidationIssue(
                path,
                line,
                column,
                _label(where, f"key {key!r} {message or 'is not allowed: ' + error.message}"),
                json_path=json_path((*where, key)),
            )
        ]
    key_position = error.validator in ("required", "dependentRequired", "minProperties")
    line, column = position(doc, where, key=key_position)
    message, hint = _message(error)
    return [
        ValidationIssue(path, line, column, _label(where, message), json_path=json_path(where), hint=hint)
    ]


def _matched_several(error: ValidationError) -> bool:
    return "is valid under each of" in error.message


def _unknown_keys(
    error: ValidationError, doc: Any, where: tuple[PathPart, ...], path: str
) -> list[ValidationIssue]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    out = []
    for key in error.instance:
        if key in allowed or (isinstance(key, str) and any(p.search(key) for p in patterns)):
            continue
        line, column = position(doc, (*where, key), key=True)
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif allowed:
            hint = "allowed keys: " + ", ".join(allowed)
        else:
            hint = None
        out.append(
            ValidationIssue(
                path,
                line,
                column,
                _label(where, f"unknown key '{key}'"),
                json_path=json_path((*where, key)),
                hint=hint,
            )
        )
    return out


ARTICLES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _message(error: ValidationError) -> tuple[str, str | None]:
    v = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    custom = schema.get("x-error")
    if v == "type":
        want = error.validator_value
        wants = want if isinstance(want, list) else [want]
        return (
            f"expected {' or '.join(ARTICLES.get(str(w), str(w)) for w in wants)}, got {type_name(inst)}",
            None,
        )
    if v == "required":
        missing = [k for k in error.validator_value if isinstance(inst, dict) and k not in inst]
        name = missing[0] if missing else error.message.split("'")[1]
        return f"missing required key '{name}'", None
    if v == "enum":
        options = error.validator_value
        hint = None
        if isinstance(inst, str):
            close = difflib.get_close_matches(inst, [str(o) for o in options], n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else None
        return f"{_short(inst)} is not one of {', '.join(_short(o) for o in options)}", hint
    if v == "const":
        return custom or f"expected {_short(error.validator_value)}, got {_short(inst)}", None
    if v in ("pattern", "format") and custom:
        # `x-redact`: the value may be a credential typed where a reference belongs; never echo it.
        shown = "the value" if schema.get("x-redact") else _short(inst)
        return f"{shown} {custom}", None
    if v == "pattern":
        return f"{_short(inst)} does not match the pattern {error.validator_value}", None
    if v == "minItems":
        n = error.validator_value
        return ("must not be empty" if n == 1 else f"needs at least {n} items"), None
    if v == "uniqueItems":
        return "has duplicate items", None
    if v == "minimum":
        return f"must be at least {error.validator_value}, got {_short(inst)}", None
    if v == "maximum":
        return f"must be at most {error.validator_value}, got {_short(inst)}", None
    if v in ("anyOf", "oneOf") and error.context and all(e.validator == "type" for e in error.context):
        wants = [str(t) for e in error.context for t in _as_list(e.validator_value)]
        return f"expected {' or '.join(ARTICLES.get(w) or w for w in wants)}, got {type_name(inst)}", None
    if v == "minLength" and error.validator_value == 1:
        return "must not be empty", None
    return error.message, None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def json_path(parts: Sequence[PathPart]) -> str:
    """`$.steps[2].with.items[0]`, the JSONPath of a node (what `ValidationIssue.json_path` holds)."""
    return "$" + "".join(_segment(p) for p in parts)


def readable_path(parts: Sequence[PathPart]) -> str:
    """`steps[2].with.items[0]`, the same path as people read it in messages."""
    return json_path(parts)[1:].lstrip(".")


def _segment(part: PathPart) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if _SIMPLE_KEY.match(part):
        return f".{part}"
    return f"[{json.dumps(part)}]"


def _label(where: Sequence[PathPart], message: str) -> str:
    label = readable_path(where)
    return f"{label}: {message}" if label else message
