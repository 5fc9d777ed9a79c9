"""Runbook validation: load, schema, semantic checks, then the frozen `golive.flows.engine.model.Runbook`.

`validate_file` is the one way a runbook becomes a `Runbook`: every issue of the file is
collected (sorted by position) and raised together as `RunbookInvalid`, so a run never starts
from a half-valid runbook. `validate_paths` does the same for files and directories and returns
what was valid beside every issue; `check_parameters` turns run parameters into the values a run
uses (defaults merged, each checked against its declared schema).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from referencing.exceptions import Unresolvable

from golive.flows.engine.model import Due, Metadata, OnFailure, Position, Runbook, Step, StepBody
from golive.flows.engine.semantic import KindSchemaFn, semantic_issues, to_plain
from golive.tasks.foundation.durations import parse_due, parse_duration
from golive.tasks.foundation.errors import ParameterError, RunbookInvalid
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.schema_check import ARTICLES, GoliveValidator, load_schema, schema_issues
from golive.tasks.foundation.yamlsafe import (
    DEFAULT_LIMITS,
    Limits,
    load_yaml,
    load_yaml_text,
    position,
    type_name,
)

log = logging.getLogger(__name__)

RUNBOOK_SCHEMA = "runbook.schema.json"
SUFFIXES = (".yaml", ".yml")


def validate_file(
    path: str | Path,
    *,
    kinds: Mapping[str, Any] | None = None,
    kind_schema: KindSchemaFn | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Runbook:
    """Load and check one runbook file; `RunbookInvalid` with all its issues, sorted by line.

    Issues carry `path` as given (relative paths stay relative). `kinds`/`kind_schema` default
    to the registry and `schemas/steps/`; tests pass their own.
    """
    name = str(path)
    doc = load_yaml(path, display=name, limits=limits)
    return validate_document(doc, name, Path(path), kinds=kinds, kind_schema=kind_schema)


def validate_text(
    text: str,
    name: str = "<text>",
    *,
    kinds: Mapping[str, Any] | None = None,
    kind_schema: KindSchemaFn | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Runbook:
    """As `validate_file`, for runbook text that is not in a file (tests, generated runbooks)."""
    doc = load_yaml_text(text, name, limits=limits)
    return validate_document(doc, name, Path(name), kinds=kinds, kind_schema=kind_schema)


def validate_document(
    doc: Any,
    name: str,
    source: Path,
    *,
    kinds: Mapping[str, Any] | None = None,
    kind_schema: KindSchemaFn | None = None,
) -> Runbook:
    """Check a loaded document (a `CommentedMap` from `golive.tasks.foundation.yamlsafe`) and build the Runbook."""
    issues = schema_issues(doc, load_schema(RUNBOOK_SCHEMA), name)
    issues += semantic_issues(doc, name, kinds=kinds, kind_schema=kind_schema)
    if issues:
        raise RunbookInvalid(sort_issues(issues))
    return build_runbook(doc, source)


def sort_issues(issues: Iterable[ValidationIssue]) -> list[ValidationIssue]:
    """Unique issues in file order (path, line, column, then message)."""
    return sorted(set(issues), key=lambda i: (i.path, i.line, i.column, i.message))


def validate_paths(
    paths: Iterable[str | Path],
    *,
    kinds: Mapping[str, Any] | None = None,
    kind_schema: KindSchemaFn | None = None,
) -> tuple[list[Runbook], list[ValidationIssue]]:
    """Validate files and directories (every `*.yaml`/`*.yml` below, sorted).

    Returns the valid runbooks and every issue of the others, in file order. A missing path, an
    empty directory and two runbooks sharing `metadata.name` are issues too.
    """
    runbooks: list[Runbook] = []
    issues: list[ValidationIssue] = []
    names: dict[str, Runbook] = {}
    for file in _expand(paths, issues):
        try:
            runbook = validate_file(file, kinds=kinds, kind_schema=kind_schema)
        except RunbookInvalid as exc:
            issues.extend(exc.issues)
            continue
        other = names.get(runbook.name)
        if other is not None:
            line, column = _name_position(file)
            issues.append(
                ValidationIssue(
                    str(file),
                    line,
                    column,
                    f"metadata.name: runbook name '{runbook.name}' is already used",
                    json_path="$.metadata.name",
                    hint=f"also in {other.source}",
                )
            )
            continue
        names[runbook.name] = runbook
        runbooks.append(runbook)
    return runbooks, issues


def _expand(paths: Iterable[str | Path], issues: list[ValidationIssue]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
            if not found:
                issues.append(ValidationIssue(str(p), 1, 1, "no runbooks (*.yaml, *.yml) in this directory"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            issues.append(ValidationIssue(str(p), 1, 1, "no such file or directory"))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _name_position(file: Path) -> tuple[int, int]:
    try:
        return position(load_yaml(file), ("metadata", "name"))
    except RunbookInvalid:
        return (1, 1)


# -- building the model (only after every check passed) ------------------------------------


def build_runbook(doc: Any, source: Path) -> Runbook:
    meta = doc["metadata"]
    params = doc.get("parameters") or {}
    return Runbook(
        source=source,
        metadata=Metadata(
            name=str(meta["name"]),
            title=_opt_str(meta.get("title")),
            phase=_opt_str(meta.get("phase")),
            owner=_opt_str(meta.get("owner")),
            description=_opt_str(meta.get("description")),
            due_calendar=str(meta.get("due_calendar") or "run"),
            timeline=_opt_str(meta.get("timeline")),
        ),
        parameters={str(k): to_plain(v) for k, v in params.items()},
        steps=tuple(_step(doc, "steps", i, s) for i, s in enumerate(doc["steps"])),
        on_failure=tuple(_step(doc, "on_failure", i, s) for i, s in enumerate(doc.get("on_failure") or [])),
    )


def _step(doc: Any, section: str, index: int, node: Any) -> Step:
    line, column = position(doc, (section, index))
    undo = node.get("undo")
    due = node.get("due")
    timeout = node.get("timeout")
    return Step(
        id=str(node["id"]),
        body=_body(node),
        title=_opt_str(node.get("title")),
        needs=tuple(str(n) for n in node.get("needs") or ()),
        when=_opt_str(node.get("when")),
        for_each=_opt_str(node.get("for_each")),
        retries=int(node.get("retries", 0)),
        retry_delay_s=parse_duration(_scalar(node.get("retry_delay", 0))),
        timeout_s=parse_duration(_scalar(timeout)) if timeout is not None else None,
        owner=_opt_str(node.get("owner")),
        due=_due(due),
        on_failure=OnFailure(str(node.get("on_failure", "halt"))),
        undo=_body(undo) if isinstance(undo, dict) else None,
        position=Position(line, column),
    )


def _body(node: Any) -> StepBody:
    return StepBody(uses=str(node["uses"]), with_=to_plain(node.get("with") or {}))


def _due(value: Any) -> Due | None:
    return None if value is None else parse_due(str(value))


def _scalar(value: Any) -> Any:
    return to_plain(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


# -- run parameters ------------------------------------------------------------------------


def check_parameters(runbook: Runbook, given: Mapping[str, Any], *, require_all: bool = True) -> dict[str, Any]:
    """The parameters a run uses: `given` checked against the declared schemas, defaults merged.

    Raises `ParameterError` naming every unknown parameter, missing required one (declared
    without `default`) and value that does not match its schema. `require_all=False` (for
    `golive plan`) leaves missing required parameters out instead of refusing them.
    """
    problems: list[str] = []
    declared = runbook.parameters
    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(f"unknown parameter '{name}' (declared: {known})")
    values: dict[str, Any] = {}
    for name, schema in declared.items():
        if name in given:
            value = given[name]
        elif "default" in schema:
            value = schema["default"]
        else:
            if require_all:
                problems.append(f"missing required parameter '{name}'")
            continue
        check = {k: v for k, v in schema.items() if k != "default"}
        try:
            error = best_match(GoliveValidator(check, format_checker=GoliveValidator.FORMAT_CHECKER).iter_errors(value))
        except Unresolvable as exc:
            problems.append(f"parameter '{name}': cannot resolve its schema ({exc})")
            continue
        if error is not None:
            problems.append(f"parameter '{name}': {_param_message(error, value)}")
            continue
        values[name] = value
    if problems:
        raise ParameterError("; ".join(problems))
    return values


LOCATION_PARAMETERS = ("location", "locations")  # by convention: location ids of the organization


def check_locations(runbook: Runbook, params: Mapping[str, Any], org: Any) -> None:
    """Parameters named `location` / `locations` must name locations of the organization.

    Checked before the first step (CLI and deployment runs alike), so a typo never surfaces after
    the approvals it waited for. Raises `ParameterError` naming each unknown id, with a suggestion.
    """
    known = [loc.id for loc in getattr(org, "locations", ())]
    problems = []
    for name in LOCATION_PARAMETERS:
        if name not in runbook.parameters or name not in params:
            continue
        value = params[name]
        for given in ([value] if isinstance(value, str) else list(value or [])):
            if given == "" and isinstance(value, str):
                continue
            if given not in known:
                close = difflib.get_close_matches(str(given), known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problems.append(f"parameter '{name}': unknown location '{given}' in {getattr(org, 'name', 'the organization')}"
                                f" (known: {', '.join(known)}){hint}")
    if problems:
        raise ParameterError("; ".join(problems))


def _param_message(error: Any, value: Any) -> str:
    where = "".join(f"[{p!r}]" for p in error.absolute_path)
    if error.validator == "type":
        want = error.validator_value
        wants = want if isinstance(want, list) else [want]
        got = error.instance
        want_text = " or ".join(ARTICLES.get(str(w), str(w)) for w in wants)
        return f"{where + ': ' if where else ''}expected {want_text}, got {type_name(got)}"
    return f"{where + ': ' if where else ''}{error.message}"
