"""Loading YAML safely, keeping positions: ruamel.yaml round-trip (YAML 1.2) behind caps.

`load_yaml(path)` returns ruamel's `CommentedMap`/`CommentedSeq`, whose `.lc` knows the line and
column of every key and item, so later checks can point at the exact node. Everything that can go
wrong with the text itself becomes a `RunbookInvalid` carrying positioned `ValidationIssue`s:
a file over the size cap, bytes that are not UTF-8, syntax errors, duplicate keys, unsupported
tags, non-string keys, several documents, an empty file, a top level of the wrong shape, and
alias bombs. Alias bombs are stopped while composing, before anything is constructed: the number
of aliases, the nesting depth and the expanded node count (computed on the node graph, where an
alias is a shared node, in time linear in the number of distinct nodes) are all capped.

Timestamps (`2026-01-05`) load as plain strings: every value golive reads is JSON-shaped.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

from flows.errors import RunbookInvalid

try:  # PyYAML's libyaml binding, used only as a fast event parser (see `_parse_libyaml`)
    import yaml as _pyyaml
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - without libyaml, ruamel parses everything
    _pyyaml = None  # type: ignore[assignment]
    _CParser = None
from flows.issues import ValidationIssue

log = logging.getLogger(__name__)

Shape = Literal["mapping", "sequence", "any"]

_YAML_TAG = "tag:yaml.org,2002:"
# The YAML 1.2 core schema plus merge keys; anything else (`!!python/...`, `!!binary`, `!foo`) is refused.
_ALLOWED_TAGS = frozenset(
    _YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
)
_KEY_TAGS = frozenset((_YAML_TAG + "str", _YAML_TAG + "merge"))


@dataclass(frozen=True)
class Limits:
    """Caps on what one YAML file may cost. The defaults are far above any hand-written runbook."""

    max_bytes: int = 1 << 20  # 1 MiB
    max_aliases: int = 200
    max_depth: int = 64
    max_nodes: int = 250_000  # after expanding aliases; a 2,000-step runbook has ~35,000


DEFAULT_LIMITS = Limits()


class _Refused(Exception):
    """Raised inside the composer; carries the issues out through ruamel's call stack."""

    def __init__(self, issues: list[tuple[int, int, str, str | None]]) -> None:
        super().__init__(issues)
        self.issues = issues  # (0-based line, 0-based column, message, hint)


def _at(mark: Any) -> tuple[int, int]:
    return (getattr(mark, "line", 0) or 0, getattr(mark, "column", 0) or 0)


class _GuardedComposer(Composer):
    """ruamel's composer with caps on aliases and depth, and a node-graph check per document."""

    limits: Limits = DEFAULT_LIMITS

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self.limits.max_aliases:
                event = self.parser.peek_event()
                raise _Refused(
                    [
                        (
                            *_at(event.start_mark),
                            f"too many aliases (more than {self.limits.max_aliases})",
                            "golive refuses alias-heavy YAML (a 'billion laughs' guard); write the values out",
                        )
                    ]
                )
        elif self.depth >= self.limits.max_depth:
            event = self.parser.peek_event()
            raise _Refused(
                [
                    (
                        *_at(event.start_mark),
                        f"nesting deeper than {self.limits.max_depth} levels",
                        None,
                    )
                ]
            )
        return super().compose_node(parent, index)

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            _check_graph(node, self.limits)
        return node


def _check_graph(root: Node, limits: Limits) -> None:
    """Walk the composed graph once per distinct node: tags, key types, cycles, expanded size."""
    problems: list[tuple[int, int, str, str | None]] = []
    size: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        nid = id(node)
        if leaving:
            visiting.discard(nid)
            size[nid] = _sized(node, 1 + sum(size[id(c)] for c in _children(node)), limits)
            continue
        if nid in size:
            continue
        if nid in visiting:
            raise _Refused([(*_at(node.start_mark), "recursive alias: a node contains itself", None)])
        visiting.add(nid)
        problems.extend(_node_problems(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    if problems:
        raise _Refused(problems)


def _sized(node: Node, total: int, limits: Limits) -> int:
    if total > limits.max_nodes:
        raise _Refused(
            [
                (
                    *_at(node.start_mark),
                    f"document expands to more than {limits.max_nodes} nodes",
                    "aliases multiply content (a 'billion laughs' document); write the values out",
                )
            ]
        )
    return total


def _node_problems(node: Node) -> list[tuple[int, int, str, str | None]]:
    """Tags outside the core schema; mapping keys that are not strings."""
    problems: list[tuple[int, int, str, str | None]] = []
    tag = str(node.tag)
    if tag not in _ALLOWED_TAGS:
        problems.append((*_at(node.start_mark), f"unsupported tag {tag.replace(_YAML_TAG, '!!')}", None))
    if isinstance(node, MappingNode):
        for key, _value in node.value:
            ktag = str(key.tag)
            if not isinstance(key, ScalarNode) or ktag not in _KEY_TAGS:
                kind = ktag.replace(_YAML_TAG, "") if isinstance(key, ScalarNode) else "collection"
                problems.append(
                    (
                        *_at(key.start_mark),
                        f"mapping key must be a string, got {kind}",
                        "quote the key" if isinstance(key, ScalarNode) else None,
                    )
                )
    return problems


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as the strings they were written as, and
    words a number it cannot read (`-_` matches YAML 1.2's int pattern) as a positioned error."""

    def construct_timestamp_as_str(self, node: Any) -> str:
        return str(node.value)

    def construct_checked_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except (ValueError, IndexError, TypeError):
            raise ConstructorError(
                None, None, f"{node.value!r} is not a valid integer; quote it if it is text", node.start_mark
            ) from None

    def construct_checked_float(self, node: Any) -> Any:
        try:
            return super().construct_yaml_float(node)
        except (ValueError, IndexError, TypeError):
            raise ConstructorError(
                None, None, f"{node.value!r} is not a valid number; quote it if it is text", node.start_mark
            ) from None


_Constructor.add_constructor(_YAML_TAG + "timestamp", _Constructor.construct_timestamp_as_str)
_Constructor.add_constructor(_YAML_TAG + "int", _Constructor.construct_checked_int)
_Constructor.add_constructor(_YAML_TAG + "float", _Constructor.construct_checked_float)


def _yaml(limits: Limits) -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    composer: Any = type("_Composer", (_GuardedComposer,), {"limits": limits})
    yaml.Composer = composer
    yaml.Constructor = _Constructor
    return yaml


def load_yaml(
    path: str | Path,
    *,
    shape: Shape = "mapping",
    display: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """Load one YAML document from `path`, positions kept; `RunbookInvalid` on any problem.

    `shape` is what the top level must be; `display` is the path written into issues
    (default: `path` as given).
    """
    name = display if display is not None else str(path)
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(limits.max_bytes + 1)
    except OSError as exc:
        raise RunbookInvalid(
            [ValidationIssue(name, 1, 1, f"cannot read file: {exc.strerror or exc}")]
        ) from None
    if len(data) > limits.max_bytes:
        raise RunbookInvalid(
            [
                ValidationIssue(
                    name, 1, 1, f"file is larger than {_size(limits.max_bytes)}; refusing to load it"
                )
            ]
        )
    return load_yaml_bytes(data, name, shape=shape, limits=limits)


def load_yaml_bytes(
    data: bytes, name: str, *, shape: Shape = "mapping", limits: Limits = DEFAULT_LIMITS
) -> Any:
    """As `load_yaml`, from bytes already read; `name` is the path written into issues."""
    if len(data) > limits.max_bytes:
        raise RunbookInvalid(
            [
                ValidationIssue(
                    name, 1, 1, f"file is larger than {_size(limits.max_bytes)}; refusing to load it"
                )
            ]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise RunbookInvalid(
            [
                ValidationIssue(
                    name,
                    line,
                    column,
                    f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                    hint="save the file as UTF-8",
                )
            ]
        ) from None
    return load_yaml_text(text, name, shape=shape, limits=limits)


def load_yaml_text(text: str, name: str, *, shape: Shape = "mapping", limits: Limits = DEFAULT_LIMITS) -> Any:
    """As `load_yaml`, from text already decoded; `name` is the path written into issues."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text.encode("utf-8", errors="surrogatepass")) > limits.max_bytes:
        raise RunbookInvalid(
            [
                ValidationIssue(
                    name, 1, 1, f"file is larger than {_size(limits.max_bytes)}; refusing to load it"
                )
            ]
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = _parse(text, limits)
    except _Refused as exc:
        raise RunbookInvalid(
            sorted(
                ValidationIssue(name, ln + 1, col + 1, msg, hint=hint) for ln, col, msg, hint in exc.issues
            )
        ) from None
    except DuplicateKeyError as exc:
        raise RunbookInvalid([_duplicate_key_issue(exc, name)]) from None
    except MarkedYAMLError as exc:
        raise RunbookInvalid([_syntax_issue(exc, name, text)]) from None
    except ReaderError as exc:
        line, column = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else 0
        raise RunbookInvalid(
            [ValidationIssue(name, line, column, f"control character U+{char:04X} is not allowed in YAML")]
        ) from None
    except YAMLError as exc:  # any other ruamel complaint, without a mark
        raise RunbookInvalid([ValidationIssue(name, 1, 1, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise RunbookInvalid([ValidationIssue(name, 1, 1, "document is nested too deeply")]) from None
    if doc is None:
        raise RunbookInvalid([ValidationIssue(name, 1, 1, "file is empty; expected a YAML mapping")])
    _check_shape(doc, shape, name)
    return doc


def _parse(text: str, limits: Limits) -> Any:
    """libyaml's event parser when it takes the text, else (and for every error) ruamel's own."""
    if _CParser is not None:
        try:
            return _parse_libyaml(text, limits)
        except (_Fallback, _Refused):
            pass  # errors are always worded (and confirmed) by ruamel, which has the same caps
    return _parse_ruamel(text, limits)


def _parse_ruamel(text: str, limits: Limits) -> Any:
    return _yaml(limits).load(io.StringIO(text))


# Where libyaml (YAML 1.1) reads text differently from ruamel (1.2): it is laxer about tabs, and
# NEL, LS and PS are line breaks to it. Such (rare) files go to ruamel directly.
_LIBYAML_DIFFERS = re.compile("[\t\x85\u2028\u2029]")


class _Fallback(Exception):
    """The fast path declines; ruamel parses the text (and words any error)."""


def _parse_libyaml(text: str, limits: Limits) -> Any:
    """Parse with libyaml's C event parser (far faster than ruamel's pure-Python scanner), compose
    ruamel nodes here with the same caps, then let ruamel's round-trip constructor build the
    `CommentedMap`: same resolver rules (YAML 1.2), same values, same `.lc` positions, same
    duplicate-key check. Anything unusual (a syntax error, directives, an undefined alias, a
    second document, a refused node) falls back to ruamel, so every error is ruamel's verdict.
    The caps hold here too: a bomb is refused after linear work, then again by ruamel.
    """
    if _LIBYAML_DIFFERS.search(text):
        raise _Fallback
    yaml = _yaml(limits)
    parser = _CParser(text)
    try:
        root = _compose_events(parser, _resolve_table(), limits)
    except _pyyaml.YAMLError:
        raise _Fallback from None
    if root is None:
        return None
    return yaml.constructor.construct_document(root)


@lru_cache(maxsize=1)
def _resolve_table() -> dict[Any, list[tuple[Any, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers (first character -> [(tag, regexp)]), read once."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    table: dict[Any, list[tuple[Any, Any]]] = yaml.resolver.versioned_resolver
    return {k: list(v) for k, v in table.items()}


_TAG_OBJECTS: dict[str, Tag] = {}


def _tag(text: str) -> Tag:
    """One shared ruamel Tag per tag string (a Tag caches its string form; building one is slow)."""
    tag = _TAG_OBJECTS.get(text)
    if tag is None:
        tag = _TAG_OBJECTS[text] = Tag(suffix=text)
    return tag


_STR = _YAML_TAG + "str"


def _resolve_scalar(table: dict[Any, list[tuple[Any, Any]]], value: str, implicit: tuple[bool, bool]) -> str:
    # Mirrors ruamel's VersionedResolver.resolve for scalars without its per-call version lookup.
    if implicit[0]:
        for tag, regexp in table.get(value[0] if value else "", ()):
            if regexp.match(value):
                return str(tag)
        for tag, regexp in table.get(None, ()):
            if regexp.match(value):
                return str(tag)
    return _STR


def _compose_events(parser: Any, table: dict[Any, list[tuple[Any, Any]]], limits: Limits) -> Node | None:
    """Build the node graph from libyaml events, iteratively, checking every cap on the way."""
    ev = _pyyaml.events
    parser.get_event()  # stream start
    event = parser.get_event()
    if isinstance(event, ev.StreamEndEvent):
        return None
    if event.version is not None or event.tags:
        raise _Fallback  # %YAML / %TAG directives: ruamel decides what they mean
    anchors: dict[str, Node] = {}
    sizes: dict[int, int] = {}  # expanded node count of each finished node
    stack: list[list[Any]] = []  # [node, pending key node or None, expanded size so far]
    open_ids: set[int] = set()
    problems: list[tuple[int, int, str, str | None]] = []
    root: Node | None = None
    aliases = 0
    key_tags = {_tag(t) for t in _KEY_TAGS}
    scalar_ev, seq_ev, map_ev, alias_ev = (
        ev.ScalarEvent,
        ev.SequenceStartEvent,
        ev.MappingStartEvent,
        ev.AliasEvent,
    )
    while True:
        event = parser.get_event()
        node: Node
        cls = type(event)
        if cls is alias_ev:
            aliases += 1
            if aliases > limits.max_aliases:
                raise _Refused(
                    [
                        (
                            *_at(event.start_mark),
                            f"too many aliases (more than {limits.max_aliases})",
                            "golive refuses alias-heavy YAML (a 'billion laughs' guard); write the values out",
                        )
                    ]
                )
            if event.anchor not in anchors:
                raise _Fallback
            node = anchors[event.anchor]
            if id(node) in open_ids:
                raise _Refused([(*_at(node.start_mark), "recursive alias: a node contains itself", None)])
            size = sizes[id(node)]
        elif cls is scalar_ev or cls is seq_ev or cls is map_ev:
            if len(stack) >= limits.max_depth:
                raise _Refused(
                    [(*_at(event.start_mark), f"nesting deeper than {limits.max_depth} levels", None)]
                )
            tag = event.tag
            if cls is scalar_ev:
                if tag is None or tag == "!":
                    tag = _resolve_scalar(table, event.value, event.implicit)
                node = ScalarNode(
                    _tag(tag),
                    event.value,
                    event.start_mark,
                    event.end_mark,
                    style=event.style or None,
                    anchor=event.anchor,
                )
                if tag not in _ALLOWED_TAGS:
                    problems.extend(_node_problems(node))
                size = 1
            else:
                kind = SequenceNode if cls is seq_ev else MappingNode
                if tag is None or tag == "!":
                    tag = _YAML_TAG + ("seq" if cls is seq_ev else "map")
                node = kind(
                    _tag(tag), [], event.start_mark, None, flow_style=event.flow_style, anchor=event.anchor
                )
                if tag not in _ALLOWED_TAGS:
                    problems.extend(_node_problems(node))
                if event.anchor is not None:
                    anchors[event.anchor] = node
                stack.append([node, None, 1])
                open_ids.add(id(node))
                continue
            if event.anchor is not None:
                anchors[event.anchor] = node
            sizes[id(node)] = size
        elif cls is ev.SequenceEndEvent or cls is ev.MappingEndEvent:
            node, _, size = stack.pop()
            node.end_mark = event.end_mark
            open_ids.discard(id(node))
            sizes[id(node)] = _sized(node, size, limits)
            if cls is ev.MappingEndEvent and not all(k.ctag in key_tags for k, _ in node.value):
                problems.extend(p for p in _node_problems(node) if p[2].startswith("mapping key"))
        elif cls is ev.DocumentEndEvent:
            if not isinstance(parser.get_event(), ev.StreamEndEvent):
                raise _Fallback  # a second document
            if problems:
                raise _Refused(problems)
            return root
        else:
            raise _Fallback
        if not stack:
            root = node
            continue
        top = stack[-1]
        top[2] += size
        parent = top[0]
        if type(parent) is SequenceNode:
            parent.value.append(node)
        elif top[1] is None:
            top[1] = node
        else:
            parent.value.append((top[1], node))
            top[1] = None


def _check_shape(doc: Any, shape: Shape, name: str) -> None:
    if shape == "any":
        return
    want = CommentedMap if shape == "mapping" else CommentedSeq
    if isinstance(doc, want):
        return
    line, column = 1, 1
    lc = getattr(doc, "lc", None)
    if lc is not None and lc.line is not None:
        line, column = lc.line + 1, lc.col + 1
    article = "a mapping (key: value lines)" if shape == "mapping" else "a list"
    raise RunbookInvalid(
        [ValidationIssue(name, line, column, f"expected {article} at the top level, got {type_name(doc)}")]
    )


def type_name(value: Any) -> str:
    """The JSON name of a loaded value's type, with an article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _duplicate_key_issue(exc: DuplicateKeyError, name: str) -> ValidationIssue:
    line, column = _at(exc.problem_mark)
    problem = str(exc.problem or "")
    key = problem.split('"')[1] if problem.count('"') >= 2 else "?"
    first = ""
    if exc.context_mark is not None:
        first = f"; the mapping starts at line {exc.context_mark.line + 1}"
    return ValidationIssue(
        name,
        line + 1,
        column + 1,
        f"duplicate key '{key}'",
        hint=f"each key may appear once in a mapping{first}",
    )


_SYNTAX_HINTS = (
    ("'\\t'", "YAML indents with spaces; replace the tab characters"),
    ("mapping values are not allowed", "a value containing ': ' must be quoted, or the indentation is off"),
    ("could not find expected ':'", "a key needs ': ' after it; check quotes and indentation"),
    ("found undefined alias", "an alias (*name) must refer to an anchor (&name) defined before it"),
    ("expected a single document", "a runbook file holds one YAML document; remove the '---' separator"),
)


def _syntax_issue(exc: MarkedYAMLError, name: str, text: str) -> ValidationIssue:
    mark = exc.problem_mark or exc.context_mark
    line, column = _at(mark) if mark is not None else (0, 0)
    problem = (exc.problem or exc.context or "malformed document").strip()
    if "'\\t'" in problem:
        message = "tab character where YAML expects spaces"
    elif "expected a single document" in str(exc.context or ""):
        message = "more than one YAML document in the file"
    elif "while scanning a quoted scalar" in str(exc.context or "") and exc.context_mark is not None:
        message = "invalid YAML: quoted string is never closed"
        line, column = _at(exc.context_mark)
        return ValidationIssue(name, line + 1, column + 1, message, hint="add the closing quote")
    elif problem.startswith("expected <block end>"):
        message = "invalid YAML: indentation does not line up with the lines above"
    else:
        message = f"invalid YAML: {problem}"
    hint = None
    blob = f"{exc.context or ''} {problem}"
    for needle, text_hint in _SYNTAX_HINTS:
        if needle in blob:
            hint = text_hint
            break
    if hint is None and exc.context and exc.context_mark is not None and exc.problem:
        hint = f"{exc.context.strip()} at line {exc.context_mark.line + 1}"
    # ruamel reports a column one past the end for some end-of-line problems; stay on the line.
    line_text = text.split("\n")[line] if line < text.count("\n") + 1 else ""
    column = min(column, len(line_text))
    return ValidationIssue(name, line + 1, column + 1, message, hint=hint)


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[: max(index, 0)]
    line = before.count("\n") + 1
    column = index - (before.rfind("\n") + 1) + 1
    return line, column


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def position(
    doc: Any, path: tuple[str | int, ...] | list[str | int], *, key: bool = False
) -> tuple[int, int]:
    """1-based (line, column) of the node at `path` in a loaded document.

    With `key=True` and a mapping parent, the position of the key rather than its value. When a
    step of the path is missing (a merged key, a value of another type), the nearest known
    ancestor's position is returned, so an issue always has a place.
    """
    node = doc
    best = _own_position(doc) or (1, 1)
    for i, part in enumerate(path):
        last = i == len(path) - 1
        pos = None
        try:
            if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
                pos = node.lc.key(part) if (key and last) else node.lc.value(part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                pos = node.lc.item(part)
                node = node[part]
            else:
                return best
        except (KeyError, IndexError, TypeError, AttributeError):
            return best
        if pos is not None and pos[0] is not None:
            best = (pos[0] + 1, pos[1] + 1)
    return best


def _own_position(node: Any) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None or getattr(lc, "line", None) is None:
        return None
    return (lc.line + 1, lc.col + 1)
