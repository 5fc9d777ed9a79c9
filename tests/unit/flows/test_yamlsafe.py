"""The YAML loader: positions kept, every kind of bad input refused with a positioned issue."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.yamlsafe import Limits, load_yaml, load_yaml_bytes, load_yaml_text, position


def _issues(text: str | bytes, **kw: object) -> list[str]:
    with pytest.raises(RunbookInvalid) as err:
        if isinstance(text, bytes):
            load_yaml_bytes(text, "f.yaml", **kw)  # type: ignore[arg-type]
        else:
            load_yaml_text(text, "f.yaml", **kw)  # type: ignore[arg-type]
    return [i.format() for i in err.value.issues]


def test_loads_a_mapping_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\nsteps:\n  - id: x\n    with: {k: v}\n", encoding="utf-8")
    doc = load_yaml(path)
    assert isinstance(doc, CommentedMap) and isinstance(doc["steps"], CommentedSeq)
    assert doc == {"a": 1, "steps": [{"id": "x", "with": {"k": "v"}}]}
    assert position(doc, ("steps", 0)) == (3, 5)
    assert position(doc, ("steps", 0, "with"), key=True) == (4, 5)
    assert position(doc, ("steps", 0, "with", "k")) == (4, 15)
    assert position(doc, ("steps", 0, "with", "k"), key=True) == (4, 12)


def test_position_falls_back_to_the_nearest_known_node() -> None:
    doc = load_yaml_text("a:\n  b: [1, 2]\n", "f.yaml")
    assert position(doc, ("a", "b", 7)) == (2, 6)
    assert position(doc, ("a", "missing", "deeper")) == (2, 3)
    assert position(doc, ()) == (1, 1)


def test_yaml_1_2_semantics_and_timestamps_as_strings() -> None:
    doc = load_yaml_text("on: yes\noff: no\nd: 2026-01-05\noctal: 010\nflag: true\n", "f.yaml")
    assert doc == {"on": "yes", "off": "no", "d": "2026-01-05", "octal": 10, "flag": True}
    assert type(doc["d"]) is str


def test_small_aliases_and_merge_keys_work() -> None:
    doc = load_yaml_text("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\nl: &l [1, 2]\nm: *l\n", "f.yaml")
    assert doc["c"] == {"x": 1, "y": 2} and doc["m"] == [1, 2]


def test_utf8_bom_is_accepted() -> None:
    assert load_yaml_bytes("\ufeffa: é\n".encode(), "f.yaml") == {"a": "é"}


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    line = "key: " + "x" * 1000 + "\n"
    path.write_text("a:\n" + ("  - " + line) * 1100, encoding="utf-8")
    assert path.stat().st_size > 1 << 20
    with pytest.raises(RunbookInvalid) as err:
        load_yaml(path, display="big.yaml")
    assert str(err.value) == "big.yaml:1:1: error: file is larger than 1 MiB; refusing to load it"


def test_size_cap_is_configurable() -> None:
    assert _issues("a: 12345\n", limits=Limits(max_bytes=5)) == [
        "f.yaml:1:1: error: file is larger than 5 bytes; refusing to load it"
    ]


def test_non_utf8_points_at_the_first_bad_byte() -> None:
    assert _issues(b"a: ok\nb: caf" + b"\xe9\n") == [
        "f.yaml:2:7: error: file is not valid UTF-8 (byte 0xe9)\n    hint: save the file as UTF-8"
    ]
    # Columns count characters, not bytes, before the bad byte.
    assert _issues("x: éé".encode() + b"\xff")[0].startswith("f.yaml:1:6:")


def test_utf16_file_is_not_utf8() -> None:
    assert _issues("a: 1\n".encode("utf-16"))[0].startswith(
        "f.yaml:1:1: error: file is not valid UTF-8 (byte 0xff)"
    )


def test_syntax_error_has_ruamels_position() -> None:
    assert _issues("a: 1\nb: c: d\n") == [
        "f.yaml:2:5: error: invalid YAML: mapping values are not allowed here\n"
        "    hint: a value containing ': ' must be quoted, or the indentation is off"
    ]


def test_unclosed_flow_mapping() -> None:
    assert _issues("a: {b: 1\n")[0].startswith("f.yaml:2:1: error: invalid YAML: expected ',' or '}'")


def test_duplicate_key_at_the_duplicate() -> None:
    assert _issues("a: 1\nb:\n  c: 1\n  c: 2\n") == [
        "f.yaml:4:3: error: duplicate key 'c'\n"
        "    hint: each key may appear once in a mapping; the mapping starts at line 3"
    ]


def test_tab_indentation() -> None:
    assert _issues("a:\n\tb: 1\n")[0].startswith("f.yaml:2:1: error: tab character where YAML expects spaces")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_documents(text: str) -> None:
    assert _issues(text) == ["f.yaml:1:1: error: file is empty; expected a YAML mapping"]


def test_top_level_shape() -> None:
    assert _issues("- a\n") == [
        "f.yaml:1:1: error: expected a mapping (key: value lines) at the top level, got a list"
    ]
    assert _issues("42\n")[0].endswith("got an integer")
    assert load_yaml_text("- a\n", "f.yaml", shape="sequence") == ["a"]
    assert _issues("a: 1\n", shape="sequence") == [
        "f.yaml:1:1: error: expected a list at the top level, got a mapping"
    ]
    assert load_yaml_text("7\n", "f.yaml", shape="any") == 7


def test_multiple_documents() -> None:
    assert _issues("a: 1\n---\nb: 2\n") == [
        "f.yaml:2:1: error: more than one YAML document in the file\n"
        "    hint: a runbook file holds one YAML document; remove the '---' separator"
    ]


def _laughs(levels: int, width: int) -> str:
    lines = ['l0: &l0 ["lol"]']
    for n in range(1, levels + 1):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(30)
def test_billion_laughs_is_refused_without_expanding() -> None:
    issues = _issues(_laughs(9, 10))  # 10**9 nodes once expanded
    assert len(issues) == 1
    assert "error: document expands to more than 250000 nodes" in issues[0]


def test_alias_cap() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 10) + "]\n"
    assert load_yaml_text(text, "f.yaml", limits=Limits(max_aliases=10))["b"] == [1] * 10
    assert _issues(text, limits=Limits(max_aliases=9))[0].startswith(
        "f.yaml:2:41: error: too many aliases (more than 9)"
    )


def test_expanded_node_cap_counts_aliases() -> None:
    text = _laughs(2, 3)  # l0: 2 nodes, l1: 1+3*2, l2: 1+3*7 -> plus keys and root
    assert load_yaml_text(text, "f.yaml", limits=Limits(max_nodes=40))
    assert _issues(text, limits=Limits(max_nodes=20))[0].startswith(
        "f.yaml:3:5: error: document expands to more than 20 nodes"
    )


def test_depth_cap() -> None:
    assert load_yaml_text("a: " + "[" * 10 + "]" * 10 + "\n", "f.yaml", limits=Limits(max_depth=12))
    assert _issues("a: " + "[" * 200 + "]" * 200 + "\n") == [
        "f.yaml:1:67: error: nesting deeper than 64 levels"
    ]


def test_recursive_alias() -> None:
    assert _issues("a: &a [1, *a]\n") == ["f.yaml:1:4: error: recursive alias: a node contains itself"]


def test_undefined_alias() -> None:
    assert _issues("a: *nope\n")[0].startswith(
        "f.yaml:1:4: error: invalid YAML: found undefined alias 'nope'"
    )


def test_unsupported_tags_are_refused_in_file_order() -> None:
    assert _issues("a: !!python/name:os.system x\nb: !!binary aGk=\nc: !custom 1\nd: !!set {x}\n") == [
        "f.yaml:1:4: error: unsupported tag !!python/name:os.system",
        "f.yaml:2:4: error: unsupported tag !!binary",
        "f.yaml:3:4: error: unsupported tag !custom",
        "f.yaml:4:4: error: unsupported tag !!set",
    ]


def test_keys_must_be_strings() -> None:
    assert _issues("1: a\ntrue: b\n? [x]\n: c\n") == [
        "f.yaml:1:1: error: mapping key must be a string, got int\n    hint: quote the key",
        "f.yaml:2:1: error: mapping key must be a string, got bool\n    hint: quote the key",
        "f.yaml:3:3: error: mapping key must be a string, got collection",
    ]
    assert load_yaml_text("'1': a\n", "f.yaml") == {"1": "a"}


def test_control_characters() -> None:
    assert _issues("a: b\x07\n") == ["f.yaml:1:5: error: control character U+0007 is not allowed in YAML"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RunbookInvalid) as err:
        load_yaml(tmp_path / "nope.yaml", display="nope.yaml")
    assert str(err.value).startswith("nope.yaml:1:1: error: cannot read file: ")


def test_display_defaults_to_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(RunbookInvalid) as err:
        load_yaml(path)
    assert err.value.issues[0].path == str(path)
