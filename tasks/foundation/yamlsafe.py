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

Speed: ruamel's scanner is pure Python (about 2.5 s for a 2,000-step runbook here). Plainly valid
text is therefore read through libyaml's C event parser (PyYAML's binding, a Prefect dependency)
and built into the very same `CommentedMap`s with ruamel's resolver rules (`_parse_libyaml`);
whatever is not plainly valid goes to ruamel, which gives every error. A property test checks
that both paths agree on data and positions.
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

from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.issues import ValidationIssue

try:  # PyYAML's libyaml binding, used only as a fast event parser (see `_parse_libyaml`)
    import yaml as _pyyaml
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - without libyaml, ruamel parses everything
    _pyyaml = None  # type: ignore[assignment]
    _CParser = None

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
    """The happy path, fast: libyaml's C event parser (ruamel's scanner is pure Python and about
    ten times slower on a large runbook), with the values and positions built here exactly as
    ruamel's round-trip loader builds them: `CommentedMap`/`CommentedSeq` with `.lc`, YAML 1.2
    scalars through ruamel's own resolver rules and constructors, aliases as shared objects.

    Anything that is not plainly valid (a syntax error, a directive, a tag outside the core
    schema, a non-string or duplicate key, a merge key, an alias problem, a cap reached) raises
    `_Fallback`, and ruamel parses the text instead; so every error is ruamel's verdict, worded
    one way. The caps hold on both paths: a bomb costs linear work here, then again in ruamel.
    """
    if _LIBYAML_DIFFERS.search(text):
        raise _Fallback
    yaml = _yaml(limits)
    yaml.resolver  # noqa: B018 - created on first access; the constructor reads the version from it
    try:
        return _build(_CParser(text), _resolve_table(), yaml.constructor, limits)
    except (_pyyaml.YAMLError, ValueError, TypeError, IndexError, MarkedYAMLError):
        raise _Fallback from None


@lru_cache(maxsize=1)
def _resolve_table() -> dict[Any, list[tuple[str, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers (first character -> [(tag, regexp)]), read once."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    table = yaml.resolver.versioned_resolver
    return {k: [(str(tag), rx) for tag, rx in v] for k, v in table.items()}


_STR = _YAML_TAG + "str"
_SCALAR_TAGS = {_YAML_TAG + t: t for t in ("int", "float", "bool", "null", "timestamp")}


def _resolve_scalar(table: dict[Any, list[tuple[str, Any]]], value: str, implicit: tuple[bool, bool]) -> str:
    # Mirrors ruamel's VersionedResolver.resolve for scalars, without its per-call version lookup.
    if implicit[0]:
        for tag, regexp in table.get(value[0] if value else "", ()):
            if regexp.match(value):
                return tag
        for tag, regexp in table.get(None, ()):
            if regexp.match(value):
                return tag
    return _STR


def _build(parser: Any, table: dict[Any, list[tuple[str, Any]]], constructor: Any, limits: Limits) -> Any:
    """Values from libyaml events, iteratively; `_Fallback` on anything but plainly valid YAML."""
    ev = _pyyaml.events
    scalar_ev, seq_ev, map_ev, alias_ev = (
        ev.ScalarEvent,
        ev.SequenceStartEvent,
        ev.MappingStartEvent,
        ev.AliasEvent,
    )
    seq_end, map_end = ev.SequenceEndEvent, ev.MappingEndEvent
    parser.get_event()  # stream start
    event = parser.get_event()
    if type(event) is ev.StreamEndEvent:
        return None
    if event.version is not None or event.tags:
        raise _Fallback  # %YAML / %TAG directives: ruamel decides what they mean
    # anchor -> (value, expanded size or None while still open, start mark, is a string)
    anchors: dict[str, tuple[Any, int | None, Any, bool]] = {}
    # frame: [container, is mapping, pending key or _NO_KEY, pending key mark, expanded size, anchor, mark]
    stack: list[list[Any]] = []
    root: Any = None
    aliases = 0
    max_depth, max_nodes = limits.max_depth, limits.max_nodes
    while True:
        event = parser.get_event()
        cls = type(event)
        if cls is scalar_ev:
            if len(stack) >= max_depth:
                raise _Fallback
            tag = event.tag
            if tag is None or tag == "!":
                tag = _resolve_scalar(table, event.value, event.implicit)
            if tag == _STR:
                value: Any = event.value
            elif tag in _SCALAR_TAGS:
                kind = _SCALAR_TAGS[tag]
                if kind == "null":
                    value = None
                elif kind == "timestamp":
                    value = event.value
                else:
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark)
                    value = getattr(
                        constructor, f"construct_checked_{kind}" if kind != "bool" else "construct_yaml_bool"
                    )(node)
            else:
                raise _Fallback  # a tag outside the core schema
            size = 1
            mark = event.start_mark
            is_str = tag == _STR
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, mark, is_str)
        elif cls is seq_ev or cls is map_ev:
            if len(stack) >= max_depth:
                raise _Fallback
            if event.tag not in (None, "!", _YAML_TAG + ("seq" if cls is seq_ev else "map")):
                raise _Fallback
            mark = event.start_mark
            container: Any = CommentedSeq() if cls is seq_ev else CommentedMap()
            container._yaml_set_line_col(mark.line, mark.column)
            if event.anchor is not None:
                anchors[event.anchor] = (container, None, mark, False)
            stack.append([container, cls is map_ev, _NO_KEY, None, 1, event.anchor, mark])
            continue
        elif cls is seq_end or cls is map_end:
            value, _, _, _, size, anchor, mark = stack.pop()
            if size > max_nodes:
                raise _Fallback
            is_str = False
            if anchor is not None:
                anchors[anchor] = (value, size, mark, False)
        elif cls is alias_ev:
            aliases += 1
            hit = anchors.get(event.anchor)
            if aliases > limits.max_aliases or hit is None or hit[1] is None:
                raise _Fallback  # too many, undefined, or recursive
            value, _, mark, is_str = hit
            size = hit[1]
        elif cls is ev.DocumentEndEvent:
            if type(parser.get_event()) is not ev.StreamEndEvent:
                raise _Fallback  # a second document
            return root
        else:
            raise _Fallback
        if not stack:
            root = value
            continue
        frame = stack[-1]
        frame[4] += size
        container = frame[0]
        if not frame[1]:
            container._yaml_set_idx_line_col(len(container), [mark.line, mark.column])
            container.append(value)
        elif frame[2] is _NO_KEY:
            if not is_str or value == "<<":
                raise _Fallback  # a non-string key, or a merge key
            frame[2], frame[3] = value, mark
        else:
            key, kmark = frame[2], frame[3]
            if key in container:
                raise _Fallback  # a duplicate key
            container[key] = value
            container._yaml_set_kv_line_col(key, [kmark.line, kmark.column, mark.line, mark.column])
            frame[2] = _NO_KEY


_NO_KEY = object()


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
