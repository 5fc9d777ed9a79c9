"""Runbook expressions: sandboxed Jinja with StrictUndefined.

Bare expressions (`when`, `for_each`, `that`, `check`) are Jinja expressions; strings in `with:`
are templates. A template that is exactly one `{{ expr }}` keeps the expression's native type
(a list stays a list), as Ansible does, so `items: "{{ steps.scan.outputs.sites }}"` works.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from golive.tasks.foundation.errors import ExpressionError

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@pass_context
def _place(context: Any, location_id: Any) -> str:
    """`{{ item | place }}`: a location's display name for text people read (ids stay for machines)."""
    from golive.tasks.foundation.names import location_name

    return location_name(context.get("org"), str(location_id))


@pass_context
def _places(context: Any, location_ids: Any) -> list[str]:
    """`{{ params.locations | places | join(', ') }}`: each location's display name."""
    from golive.tasks.foundation.names import location_names

    return location_names(context.get("org"), location_ids)


_ENV.filters["place"] = _place
_ENV.filters["places"] = _places
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)

Path = tuple[str, ...]


def single_expression(text: str) -> str | None:
    """The expression of a template that is exactly one `{{ expr }}` (its value keeps its type)."""
    match = _SINGLE.match(text)
    return match.group("expr") if match else None


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@lru_cache(maxsize=4096)
def _compiled_expression(expr: str) -> Callable[..., Any]:
    return _ENV.compile_expression(expr, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _compiled_template(text: str) -> Any:
    return _ENV.from_string(text)


def parse_expression(expr: str) -> nodes.Expr:
    """Parse a bare expression; raises ExpressionError with Jinja's message."""
    try:
        parser = _ENV._parse(f"{{{{ {expr} }}}}", None, None)  # noqa: SLF001 - Jinja has no public expr parser
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid expression {expr!r}: {exc.message}") from None
    body = parser.body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        raise ExpressionError(f"invalid expression {expr!r}: not a single expression")
    return body[0].nodes[0]


def parse_template(text: str) -> nodes.Template:
    try:
        return _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid template {text!r}: {exc.message}") from None


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression over `scope`."""
    try:
        return _compiled_expression(expr)(**scope)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid expression {expr!r}: {exc.message}") from None
    except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise ExpressionError(f"expression {expr!r} failed: {exc}") from None


def render(text: str, scope: Mapping[str, Any]) -> Any:
    """Render a `with:` string: plain text stays as is, one `{{ expr }}` keeps its native type."""
    if not is_template(text):
        return text
    single = single_expression(text)
    if single is not None:
        return evaluate(single, scope)
    try:
        return _compiled_template(text).render(**scope)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid template {text!r}: {exc.message}") from None
    except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise ExpressionError(f"template {text!r} failed: {exc}") from None


def render_value(value: Any, scope: Mapping[str, Any], raw_keys: frozenset[str] = frozenset()) -> Any:
    """Render every template string inside `value`; keys in `raw_keys` keep their bare expressions."""
    if isinstance(value, str):
        return render(value, scope)
    if isinstance(value, Mapping):
        return {
            k: (v if k in raw_keys and isinstance(v, str) else render_value(v, scope, raw_keys))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [render_value(v, scope, raw_keys) for v in value]
    return value


def references(src: str, *, template: bool) -> set[Path]:
    """Dotted name paths an expression or template reads, e.g. ('steps', 'scan', 'outputs').

    Names bound inside the template (loop variables, `set`) are not references.
    """
    tree = parse_template(src) if template else parse_expression(src)
    _check_names(tree)
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    found: set[Path] = set()
    _walk(tree, bound, found)
    return found


def _check_names(tree: nodes.Node) -> None:
    """Unknown filters and tests are only found when Jinja compiles; find them in the tree instead."""
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        known = _ENV.filters if isinstance(node, nodes.Filter) else _ENV.tests
        if node.name not in known:
            what = "filter" if isinstance(node, nodes.Filter) else "test"
            close = difflib.get_close_matches(node.name, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ExpressionError(f"no {what} named '{node.name}'{hint}")


def _chain(node: nodes.Node) -> Path | None:
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        head = _chain(node.node)
        return None if head is None else (*head, node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        head = _chain(node.node)
        return None if head is None else (*head, node.arg.value)
    return None


def _walk(node: nodes.Node, bound: set[str], found: set[Path]) -> None:
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        path = _chain(node)
        if path is not None:
            if path[0] not in bound and node_is_load(node):
                found.add(path)
            return
    for child in node.iter_child_nodes():
        _walk(child, bound, found)


def node_is_load(node: nodes.Node) -> bool:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return isinstance(node, nodes.Name) and node.ctx == "load"
