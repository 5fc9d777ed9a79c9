"""Checks a runbook needs beyond its JSON Schema, each issue at the node it is about.

Run on the loaded `CommentedMap` after (and independently of) the schema check, defensively:
a node of the wrong type was already reported by the schema and is skipped here, so one file
gets all its issues in one pass. What is checked:

- step ids are unique across `steps` and `on_failure`;
- `needs` name existing steps of the same list (did-you-mean), and the graph has no cycle
  (named in full, `a -> b -> a`);
- `uses` (and `undo.uses`) name a registered step kind (nearest kind as a hint), and `with:`
  is valid against that kind's schema;
- every expression and template parses, and reads only `params.<declared>`, `steps.<id>` of an
  upstream step (through `needs`, transitively), `org`, `run`, `item` (only in a step with
  `for_each`, its `undo`, never in the `for_each` itself) and Jinja's globals;
- each parameter is a valid JSON Schema and its `default` is valid against it.

Durations and due dates are checked by the schema's `x-duration`/`x-due` keywords.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2.defaults import DEFAULT_NAMESPACE
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from golive.flows.engine import expressions
from golive.flows.engine.expressions import references
from golive.tasks.foundation.errors import ExpressionError
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.paths import STEP_SCHEMAS
from golive.tasks.foundation.schema_check import (
    GoliveValidator,
    PathPart,
    json_path,
    load_schema,
    readable_path,
    schema_issues,
)
from golive.tasks.foundation.yamlsafe import position

log = logging.getLogger(__name__)

SECTIONS = ("steps", "on_failure")
ROOT_NAMES = frozenset({"params", "org", "item", "steps", "run"})
# Keys inside `with:` that hold bare expressions wherever they appear (expect's `that`,
# checklist items' `check`); every other string in `with:` is a `{{ }}` template.
EXPRESSION_KEYS = frozenset({"that", "check"})
_JINJA_GLOBALS = frozenset(DEFAULT_NAMESPACE)
# The engine's own test for "one {{ expr }}, native type" (golive.flows.engine.expressions.render), so both agree.

KindSchemaFn = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class _StepRef:
    section: str
    index: int
    node: Any  # the step's CommentedMap

    @property
    def where(self) -> tuple[PathPart, ...]:
        return (self.section, self.index)

    @property
    def id(self) -> str | None:
        value = self.node.get("id")
        return value if isinstance(value, str) else None


def default_kinds() -> Mapping[str, Any]:
    from golive.tasks.registry import STEP_KINDS  # imported late: the registry imports every kind module

    return STEP_KINDS


def default_kind_schema(name: str) -> dict[str, Any] | None:
    """The kind's `with:` schema from `schemas/steps/<name>.schema.json`, None if there is none."""
    if not (STEP_SCHEMAS / f"{name}.schema.json").is_file():
        return None
    return load_schema(f"steps/{name}.schema.json")


def semantic_issues(
    doc: Any,
    path: str,
    *,
    kinds: Mapping[str, Any] | None = None,
    kind_schema: KindSchemaFn | None = None,
) -> list[ValidationIssue]:
    """All semantic issues of a loaded runbook document (a mapping), positioned in `path`."""
    return list(
        _Checker(
            doc, path, kinds if kinds is not None else default_kinds(), kind_schema or default_kind_schema
        ).run()
    )


class _Checker:
    def __init__(self, doc: Any, path: str, kinds: Mapping[str, Any], kind_schema: KindSchemaFn) -> None:
        self.doc = doc
        self.path = path
        self.kinds = kinds
        self.kind_schema = kind_schema
        self.steps: list[_StepRef] = []
        for section in SECTIONS:
            items = doc.get(section)
            if isinstance(items, list):
                self.steps.extend(_StepRef(section, i, s) for i, s in enumerate(items) if isinstance(s, dict))
        params = doc.get("parameters")
        self.params: dict[str, Any] = dict(params) if isinstance(params, dict) else {}
        self.ids: dict[str, dict[str, _StepRef]] = {s: {} for s in SECTIONS}
        self.bits: dict[str, dict[str, int]] = {}
        self.graph: dict[str, dict[str, list[str]]] = {}
        self.memo: dict[str, dict[str, int]] = {s: {} for s in SECTIONS}
        self.parsed: dict[tuple[str, bool], set[tuple[str, ...]] | BaseException] = {}

    def issue(
        self, where: tuple[PathPart, ...], message: str, *, key: bool = False, hint: str | None = None
    ) -> ValidationIssue:
        line, column = position(self.doc, where, key=key)
        label = readable_path(where)
        return ValidationIssue(
            self.path,
            line,
            column,
            f"{label}: {message}" if label else message,
            json_path=json_path(where),
            hint=hint,
        )

    def run(self) -> Iterator[ValidationIssue]:
        yield from self.check_ids()
        yield from self.check_needs()
        self.build_graph()
        yield from self.check_cycles()
        for step in self.steps:
            yield from self.check_kind(step)
            yield from self.check_expressions(step)
        yield from self.check_parameters()

    # -- ids, needs, cycles ------------------------------------------------------------------

    def check_ids(self) -> Iterator[ValidationIssue]:
        first: dict[str, _StepRef] = {}
        for step in self.steps:
            sid = step.id
            if sid is None:
                continue
            if sid in first:
                line, _ = position(self.doc, (*first[sid].where, "id"))
                yield self.issue(
                    (*step.where, "id"),
                    f"duplicate step id '{sid}'",
                    hint=f"first used at line {line}; step ids are unique across steps and on_failure",
                )
                continue
            first[sid] = step
            self.ids[step.section][sid] = step

    def needs_of(self, step: _StepRef) -> list[tuple[int, str]]:
        needs = step.node.get("needs")
        if not isinstance(needs, list):
            return []
        return [(i, n) for i, n in enumerate(needs) if isinstance(n, str)]

    def check_needs(self) -> Iterator[ValidationIssue]:
        for step in self.steps:
            same = self.ids[step.section]
            for i, target in self.needs_of(step):
                if target in same:
                    continue
                where = (*step.where, "needs", i)
                if step.section == "on_failure" and target in self.ids["steps"]:
                    yield self.issue(
                        where,
                        f"on_failure step cannot need main step '{target}'",
                        hint="on_failure steps run after the main steps; "
                        "`needs` names other on_failure steps",
                    )
                    continue
                close = difflib.get_close_matches(target, list(same), n=1, cutoff=0.6)
                yield self.issue(
                    where,
                    f"needs unknown step '{target}'",
                    hint=f"did you mean '{close[0]}'?" if close else None,
                )

    def edges(self, step: _StepRef) -> list[tuple[int, str]]:
        same = self.ids[step.section]
        return [(i, t) for i, t in self.needs_of(step) if t in same]

    def build_graph(self) -> None:
        for section in SECTIONS:
            refs = self.ids[section]
            self.bits[section] = {sid: n for n, sid in enumerate(refs)}
            self.graph[section] = {sid: [t for _, t in self.edges(ref)] for sid, ref in refs.items()}

    def check_cycles(self) -> Iterator[ValidationIssue]:
        order: dict[str | None, int] = {s.id: n for n, s in enumerate(self.steps) if s.id is not None}
        seen_cycles: set[frozenset[str]] = set()
        for section in SECTIONS:
            graph = self.graph[section]
            done: set[str] = set()
            for start in graph:
                if start in done:
                    continue
                # Iterative DFS keeping the current path, so a back edge names its whole cycle.
                path: list[str] = [start]
                on_path = {start}
                iters = [iter(graph[start])]
                while iters:
                    nxt = next(iters[-1], None)
                    if nxt is None:
                        finished = path.pop()
                        done.add(finished)
                        on_path.discard(finished)
                        iters.pop()
                        continue
                    if nxt in on_path:
                        cycle = path[path.index(nxt) :]
                        key = frozenset(cycle)
                        if key not in seen_cycles:
                            seen_cycles.add(key)
                            yield self.cycle_issue(section, cycle, order)
                        continue
                    if nxt in done:
                        continue
                    path.append(nxt)
                    on_path.add(nxt)
                    iters.append(iter(graph[nxt]))

    def cycle_issue(self, section: str, cycle: list[str], order: dict[str | None, int]) -> ValidationIssue:
        # Start the cycle at the step that comes first in the file, so the message is stable.
        k = min(range(len(cycle)), key=lambda j: order.get(cycle[j], 0))
        cycle = cycle[k:] + cycle[:k]
        head = self.ids[section][cycle[0]]
        target = cycle[1] if len(cycle) > 1 else cycle[0]
        index = next((i for i, t in self.needs_of(head) if t == target), 0)
        text = " -> ".join([*cycle, cycle[0]])
        return self.issue(
            (*head.where, "needs", index),
            f"dependency cycle: {text}",
            hint="each step needs the next; remove one of these `needs` so the steps form a DAG",
        )

    def is_upstream(self, step: _StepRef, target: str) -> bool:
        """Whether `step` may read `target`'s outputs: reached through `needs`, transitively
        (on_failure steps may also read every main step)."""
        if step.section == "on_failure" and target in self.ids["steps"]:
            return True
        if step.id is None or target not in self.ids[step.section]:
            return False
        bit = self.bits[step.section][target]
        return bool((self.ancestors(step.section, step.id) >> bit) & 1)

    def ancestors(self, section: str, sid: str) -> int:
        """Bit set (by file index) of every step `sid` needs, transitively; memoized, iterative."""
        memo = self.memo[section]
        if sid in memo:
            return memo[sid]
        graph = self.graph[section]
        bits = self.bits[section]
        stack: list[tuple[str, bool]] = [(sid, False)]
        visiting: set[str] = set()
        while stack:
            node, leaving = stack.pop()
            if leaving:
                acc = 0
                for t in graph[node]:
                    acc |= memo.get(t, 0) | (1 << bits[t])
                memo[node] = acc
                visiting.discard(node)
            elif node not in memo and node not in visiting:  # a node on a cycle stays partial
                visiting.add(node)
                stack.append((node, True))
                stack.extend((t, False) for t in graph[node] if t not in memo)
        return memo[sid]

    # -- kinds and with: ---------------------------------------------------------------------

    def check_kind(self, step: _StepRef) -> Iterator[ValidationIssue]:
        yield from self.check_body(step.node, step.where)
        undo = step.node.get("undo")
        if isinstance(undo, dict):
            yield from self.check_body(undo, (*step.where, "undo"))

    def check_body(self, body: Any, where: tuple[PathPart, ...]) -> Iterator[ValidationIssue]:
        uses = body.get("uses")
        if not isinstance(uses, str):
            return
        if uses not in self.kinds:
            close = difflib.get_close_matches(uses, list(self.kinds), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else "known kinds: " + ", ".join(sorted(self.kinds))
            yield self.issue((*where, "uses"), f"unknown step kind '{uses}'", hint=hint)
            return
        schema = self.kind_schema(uses)
        if schema is None:
            return
        if "with" in body:
            if isinstance(body["with"], dict):
                yield from schema_issues(
                    self.doc, schema, self.path, at=(*where, "with"), deferred=is_native_template
                )
            return
        for error in GoliveValidator(schema).iter_errors({}):
            detail = (
                f"missing required key '{error.message.split(chr(39))[1]}'"
                if error.validator == "required"
                else error.message
            )
            yield self.issue((*where, "uses"), f"kind '{uses}' needs `with:` ({detail})")

    # -- expressions -------------------------------------------------------------------------

    def check_expressions(self, step: _StepRef) -> Iterator[ValidationIssue]:
        node = step.node
        has_item = isinstance(node.get("for_each"), str)
        for field in ("when", "for_each"):
            src = node.get(field)
            if isinstance(src, str):
                yield from self.check_source(
                    src,
                    (*step.where, field),
                    template=False,
                    step=step,
                    item=has_item and field != "for_each",
                )
        bodies: list[tuple[Any, tuple[PathPart, ...]]] = [(node, step.where)]
        undo = node.get("undo")
        if isinstance(undo, dict):
            bodies.append((undo, (*step.where, "undo")))
        for body, where in bodies:
            with_ = body.get("with")
            if not isinstance(with_, dict):
                continue
            raw = EXPRESSION_KEYS | self.expression_fields(body.get("uses"))
            # An undo compensates its own step, so it may read that step's outputs.
            own = body is not node
            for value_where, src, bare in _strings(with_, (*where, "with"), raw):
                yield from self.check_source(src, value_where, template=not bare, step=step, item=has_item,
                                             own_outputs=own)

    def expression_fields(self, uses: Any) -> frozenset[str]:
        kind = self.kinds.get(uses) if isinstance(uses, str) else None
        fields: frozenset[str] = getattr(kind, "expression_fields", frozenset())
        return frozenset(fields)

    def check_source(
        self,
        src: str,
        where: tuple[PathPart, ...],
        *,
        template: bool,
        step: _StepRef,
        item: bool,
        own_outputs: bool = False,
    ) -> Iterator[ValidationIssue]:
        if template and "{{" not in src and "{%" not in src and "{#" not in src:
            return
        if not template and not src.strip():
            yield self.issue(where, "expression is empty")
            return
        try:
            refs = self.references(src, template)
        except ExpressionError as exc:
            kind = "template" if template else "expression"
            message = _jinja_message(str(exc), src)
            hint = None
            if not template:
                message = message.replace("end of print statement", "end of expression")
                if src.strip().startswith("{{"):
                    hint = "`when`, `for_each`, `that` and `check` take a bare expression, without {{ }}"
            yield self.issue(where, f"invalid {kind}: {message}", hint=hint)
            return
        except (RecursionError, MemoryError):
            yield self.issue(where, "expression is nested too deeply")
            return
        for ref in sorted(refs):
            problem = self.check_reference(ref, template=template, step=step, item=item, own_outputs=own_outputs)
            if problem is not None:
                message, hint = problem
                yield self.issue(where, message, hint=hint)

    def references(self, src: str, template: bool) -> set[tuple[str, ...]]:
        # Aliased YAML can repeat one string many times: parse each distinct source once.
        key = (src, template)
        hit = self.parsed.get(key)
        if hit is None:
            try:
                hit = simple_references(src, template=template)
                if hit is None:
                    hit = references(src, template=template)
            except (ExpressionError, RecursionError, MemoryError) as exc:
                hit = exc
            self.parsed[key] = hit
        if isinstance(hit, BaseException):
            raise hit
        return hit

    def check_reference(
        self, ref: tuple[str, ...], *, template: bool, step: _StepRef, item: bool, own_outputs: bool = False
    ) -> tuple[str, str | None] | None:
        head = ref[0]
        if head == "params":
            if len(ref) > 1 and ref[1] not in self.params:
                close = difflib.get_close_matches(ref[1], list(self.params), n=1, cutoff=0.6)
                hint = f"did you mean 'params.{close[0]}'?" if close else "declare it under `parameters:`"
                return f"unknown parameter 'params.{ref[1]}'", hint
            return None
        if head == "steps":
            if len(ref) < 2:
                return None
            target = ref[1]
            if not any(target in section for section in self.ids.values()):
                known = sorted(sid for section in self.ids.values() for sid in section)
                dashed = [sid for sid in known if sid.startswith(f"{target}-")]
                if dashed:
                    return (
                        f"unknown step 'steps.{target}'",
                        f"'-' is subtraction in an expression: write steps['{dashed[0]}']",
                    )
                close = difflib.get_close_matches(target, known, n=1, cutoff=0.6)
                return f"unknown step 'steps.{target}'", (f"did you mean '{close[0]}'?" if close else None)
            if target == step.id and own_outputs:
                return None
            if not self.is_upstream(step, target):
                if target == step.id:
                    return f"step '{target}' cannot read its own outputs", None
                return (
                    f"step '{target}' is not upstream of '{step.id}'",
                    f"add '{target}' to `needs` (directly or through another step) to read its outputs",
                )
            return None
        if head == "item":
            if not item:
                if isinstance(step.node.get("for_each"), str):
                    return "'item' is not defined in `for_each` itself", None
                return "'item' is only defined in a step with `for_each`", "add `for_each:` to the step"
            return None
        if head in ROOT_NAMES or head in _JINJA_GLOBALS or (template and head == "loop"):
            return None
        close = difflib.get_close_matches(head, sorted(ROOT_NAMES), n=1, cutoff=0.6)
        return (
            f"unknown name '{head}'",
            f"did you mean '{close[0]}'?" if close else "expressions read params, org, item, steps and run",
        )

    # -- parameters --------------------------------------------------------------------------

    def check_parameters(self) -> Iterator[ValidationIssue]:
        meta = self.doc.get("metadata")
        if isinstance(meta, dict) and meta.get("due_calendar") == "wave" and "wave" not in self.params:
            yield self.issue(("metadata", "due_calendar"), "'wave' counts due dates from a wave's plan, "
                             "but the runbook has no 'wave' parameter", hint="add a 'wave' integer parameter")
        timeline = meta.get("timeline") if isinstance(meta, dict) else None
        if isinstance(timeline, str) and timeline not in self.params:
            yield self.issue(("metadata", "timeline"), f"the timeline parameter '{timeline}' is not declared",
                             hint="name a declared YYYY-MM-DD parameter (e.g. 'start')")
        for name, prop in self.params.items():
            if not isinstance(prop, dict):
                continue
            where: tuple[PathPart, ...] = ("parameters", name)
            schema = to_plain(prop)
            if not _parameter_shape().is_valid(schema):
                continue  # the runbook schema reported it already
            error = _metaschema_error(json.dumps(schema, sort_keys=True, default=str))
            if error is not None:
                sub = tuple(error.absolute_path)
                yield self.issue((*where, *sub), f"not a valid JSON Schema: {error.message}")
                continue
            if "default" not in prop:
                continue
            check = {k: v for k, v in schema.items() if k != "default"}
            try:
                yield from schema_issues(self.doc, check, self.path, at=(*where, "default"))
            except (Unresolvable, RecursionError) as exc:
                yield self.issue((*where, "default"), f"cannot check the default: {exc}")


@lru_cache(maxsize=512)
def _metaschema_error(schema_json: str) -> SchemaError | None:
    """Checking against the 2020-12 metaschema is slow and runbooks repeat the same small parameter
    schemas (`{type: string}`), so each distinct schema is checked once per process."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as exc:
        return exc
    return None


def is_native_template(text: str) -> bool:
    """A `with:` string that is exactly one `{{ expr }}`: it renders to the expression's own type."""
    return expressions.single_expression(text) is not None


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_NAME}(?:\.{_NAME})*"
_SIMPLE_BLOCK = re.compile(rf"\{{\{{[ \t]*({_DOTTED})[ \t]*\}}\}}")
_SIMPLE_EXPRESSION = re.compile(rf"[ \t]*({_DOTTED})[ \t]*")
_JINJA_WORDS = frozenset(
    "true false none True False None and or not in is if else elif for endfor recursive with".split()
)


def simple_references(src: str, *, template: bool) -> set[tuple[str, ...]] | None:
    """`references` for the common case without Jinja's parser: text with `{{ a.b.c }}` blocks,
    or a bare `a.b.c`. None when the source is anything else (then Jinja decides)."""
    if template:
        if "{{{" in src or any(d in _SIMPLE_BLOCK.sub("", src) for d in ("{{", "{%", "{#")):
            return None
        names = _SIMPLE_BLOCK.findall(src)
    else:
        match = _SIMPLE_EXPRESSION.fullmatch(src)
        if match is None:
            return None
        names = [match.group(1)]
    refs = {tuple(name.split(".")) for name in names}
    if any(part in _JINJA_WORDS for ref in refs for part in ref):
        return None
    return refs


@lru_cache(maxsize=1)
def _parameter_shape() -> Any:
    return GoliveValidator(load_schema("runbook.schema.json")["$defs"]["parameter"])


def _strings(
    value: Any, where: tuple[PathPart, ...], raw: frozenset[str], bare: bool = False
) -> Iterator[tuple[tuple[PathPart, ...], str, bool]]:
    """Every string inside a `with:` value, with its path and whether it is a bare expression."""
    if isinstance(value, str):
        yield where, value, bare
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*where, k), raw, bare or (isinstance(k, str) and k in raw))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*where, i), raw, bare)


def _jinja_message(text: str, src: str) -> str:
    for prefix in (f"invalid expression {src!r}: ", f"invalid template {src!r}: "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def to_plain(value: Any) -> Any:
    """ruamel's Commented*/Scalar* values as plain JSON-shaped Python (dict, list, str, int, ...)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value
