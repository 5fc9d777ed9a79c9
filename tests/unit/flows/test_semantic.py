"""Semantic checks: ids, needs, cycles, kinds, `with:` schemas, expressions and parameters."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from golive.flows.engine.expressions import references
from golive.flows.engine.semantic import is_native_template, semantic_issues, simple_references, to_plain
from golive.tasks.foundation.errors import ExpressionError
from golive.tasks.foundation.yamlsafe import load_yaml_text
from tests.unit.flows.loader_kinds import TEST_KINDS, kind_schema_for

HEAD = "apiVersion: golive/v1\nkind: Runbook\nmetadata: {name: t}\n"


def _issues(body: str, **kw: Any) -> list[str]:
    doc = load_yaml_text(HEAD + body, "f.yaml")
    kw.setdefault("kinds", TEST_KINDS)
    kw.setdefault("kind_schema", kind_schema_for)
    return [i.format() for i in semantic_issues(doc, "f.yaml", **kw)]


def _messages(body: str, **kw: Any) -> list[str]:
    return [line.split(": error: ", 1)[1] for line in _issues(body, **kw) for line in line.splitlines()[:1]]


def _chain(n: int) -> str:
    lines = ["steps:"]
    for i in range(n):
        needs = f", needs: [s{i - 1}]" if i else ""
        lines.append(f"  - {{id: s{i}, uses: notify, with: {{to: [x], message: m}}{needs}}}")
    return "\n".join(lines) + "\n"


def test_a_clean_runbook_has_no_issues() -> None:
    assert (
        _issues("""parameters:
  sites: {type: array, default: [a]}
steps:
  - id: a
    uses: expect
    with: {that: "params.sites | length > 0"}
  - id: b
    uses: notify
    needs: [a]
    for_each: params.sites
    when: "item != 'x' and steps.a.outputs is defined"
    with: {to: ["{{ item }}"], message: "{{ steps.a.outputs }} {{ range(3) | list }} {{ org.name }} {{ run.id }}"}
    undo: {uses: notify, with: {to: [CDO], message: "undo {{ item }}"}}
  - id: c
    uses: notify
    needs: [b]
    with: {to: [CDO], message: "{{ steps.a.outputs.ok }}{% for x in params.sites %}{{ x }}{{ loop.index }}{% endfor %}"}
on_failure:
  - id: tell
    uses: notify
    with: {to: [CDO], message: "{{ steps.c.outputs }}"}
  - id: tell-more
    uses: notify
    needs: [tell]
    with: {to: [CDO], message: "{{ steps.tell.outputs }}"}
""")
        == []
    )


def test_long_chain_is_fine_and_upstream_is_transitive() -> None:
    body = _chain(1500) + "  - {id: last, uses: expect, needs: [s1499], with: {that: steps.s0.outputs.ok}}\n"
    assert _issues(body) == []


def test_diamond_is_not_a_cycle() -> None:
    body = """steps:
  - {id: a, uses: notify, with: {to: [x], message: m}}
  - {id: b, uses: notify, needs: [a], with: {to: [x], message: m}}
  - {id: c, uses: notify, needs: [a], with: {to: [x], message: m}}
  - {id: d, uses: notify, needs: [b, c], with: {to: [x], message: "{{ steps.a.outputs }}"}}
"""
    assert _issues(body) == []


def test_each_cycle_is_named_once() -> None:
    body = """steps:
  - {id: a, uses: notify, needs: [b], with: {to: [x], message: m}}
  - {id: b, uses: notify, needs: [a], with: {to: [x], message: m}}
  - {id: c, uses: notify, needs: [d, a], with: {to: [x], message: m}}
  - {id: d, uses: notify, needs: [e], with: {to: [x], message: m}}
  - {id: e, uses: notify, needs: [c], with: {to: [x], message: m}}
"""
    assert _messages(body) == [
        "steps[0].needs[0]: dependency cycle: a -> b -> a",
        "steps[2].needs[0]: dependency cycle: c -> d -> e -> c",
    ]


def test_long_cycle_does_not_recurse() -> None:
    body = _chain(1200).replace("{id: s0, uses: notify,", "{id: s0, uses: notify, needs: [s1199],")
    messages = _messages(body)
    assert len(messages) == 1 and messages[0].startswith(
        "steps[0].needs[0]: dependency cycle: s0 -> s1199 -> s1198"
    )


def test_reading_a_step_that_is_not_upstream() -> None:
    body = """steps:
  - {id: a, uses: notify, with: {to: [x], message: m}}
  - {id: b, uses: expect, with: {that: steps.a.outputs.ok}}
  - {id: c, uses: expect, needs: [b], with: {that: "steps['a'].outputs.ok"}}
"""
    assert _messages(body) == [
        "steps[1].with.that: step 'a' is not upstream of 'b'",
        "steps[2].with.that: step 'a' is not upstream of 'c'",
    ]


def test_main_steps_cannot_read_on_failure_steps() -> None:
    body = """steps:
  - {id: a, uses: expect, with: {that: steps.tell.outputs.ok}}
on_failure:
  - {id: tell, uses: notify, with: {to: [x], message: m}}
"""
    assert _messages(body) == ["steps[0].with.that: step 'tell' is not upstream of 'a'"]


def test_item_rules() -> None:
    body = """steps:
  - id: a
    uses: notify
    for_each: "[1, 2]"
    when: item > 1
    with: {to: [x], message: "{{ item }}"}
    undo: {uses: notify, with: {to: [x], message: "{{ item }}"}}
  - id: b
    uses: notify
    when: item > 1
    with: {to: [x], message: m}
    undo: {uses: notify, with: {to: [x], message: "{{ item }}"}}
"""
    assert _messages(body) == [
        "steps[1].when: 'item' is only defined in a step with `for_each`",
        "steps[1].undo.with.message: 'item' is only defined in a step with `for_each`",
    ]


def test_that_and_check_are_bare_expressions_anywhere_in_with() -> None:
    body = """steps:
  - id: a
    uses: checklist
    with:
      items:
        - {id: one, text: "plain text } is fine", check: "params.nope"}
        - {id: two, text: "{{ params.nope2 }}"}
"""
    assert _messages(body) == [
        "steps[0].with.items[0].check: unknown parameter 'params.nope'",
        "steps[0].with.items[1].text: unknown parameter 'params.nope2'",
    ]


def test_kind_expression_fields_are_bare() -> None:
    kinds = {"gate": SimpleNamespace(expression_fields=frozenset({"cond"}))}
    body = "steps:\n  - {id: a, uses: gate, with: {cond: 'x >', label: 'x >'}}\n"
    assert _messages(body, kinds=kinds, kind_schema=lambda name: None) == [
        "steps[0].with.cond: invalid expression: unexpected 'end of expression'"
    ]


def test_native_templates_are_not_type_checked() -> None:
    body = """parameters:
  roles: {type: array, default: [CDO]}
steps:
  - {id: a, uses: notify, with: {to: "{{ params.roles }}", message: m}}
  - {id: b, uses: notify, with: {to: "roles: {{ params.roles }}", message: m}}
"""
    assert _messages(body) == ["steps[1].with.to: expected a list, got a string"]
    assert is_native_template("{{ x }}") and is_native_template("  {{ a | b }} ")
    assert not is_native_template("{{ a }} {{ b }}") and not is_native_template("x {{ a }}")


def test_unknown_kind_hints() -> None:
    body = "steps:\n  - {id: a, uses: checklst}\n  - {id: b, uses: zzz}\n"
    assert _issues(body) == [
        "f.yaml:5:19: error: steps[0].uses: unknown step kind 'checklst'\n    hint: did you mean 'checklist'?",
        "f.yaml:6:19: error: steps[1].uses: unknown step kind 'zzz'\n"
        "    hint: known kinds: approval, checklist, expect, notify, report.render",
    ]


def test_kind_without_schema_skips_with_check() -> None:
    body = "steps:\n  - {id: a, uses: notify, with: {anything: 1}}\n"
    assert _issues(body, kind_schema=lambda name: None) == []


def test_parameter_with_unresolvable_ref_is_an_issue_not_a_crash() -> None:
    body = """parameters:
  sites: {type: array, items: {$ref: "https://example.invalid/s.json"}, default: [a]}
steps:
  - {id: a, uses: notify, with: {to: [x], message: m}}
"""
    messages = _messages(body)
    assert len(messages) == 1 and messages[0].startswith("parameters.sites.default: cannot check the default")


def test_wrongly_shaped_documents_do_not_crash() -> None:
    for body in (
        "steps: 3\n",
        "steps: [1, [2], {id: 3}, {id: a, needs: 4, with: 5, undo: 6, when: 7, for_each: [8]}]\n",
        "parameters: [1]\nsteps: [{id: a, uses: [notify], needs: [1, {x: 1}]}]\n",
        "on_failure: {a: 1}\nsteps: []\n",
        "parameters: {p: 1, q: {type: string, default: 3}}\nsteps: [{id: a, uses: notify}]\n",
    ):
        assert isinstance(_issues(body), list)


def test_to_plain_strips_ruamel_types() -> None:
    doc = load_yaml_text("a: {b: [1, 2.5, 'x', true, null]}\nc: |\n  text\n", "f.yaml")
    plain = to_plain(doc)
    assert plain == {"a": {"b": [1, 2.5, "x", True, None]}, "c": "text\n"}
    assert type(plain) is dict and type(plain["a"]["b"]) is list and type(plain["a"]["b"][1]) is float
    assert type(plain["c"]) is str


def test_dashed_step_ids_need_subscripts() -> None:
    body = """steps:
  - {id: collect-contacts, uses: notify, with: {to: [x], message: m}}
  - id: b
    uses: notify
    needs: [collect-contacts]
    with: {to: [x], message: "{{ steps.collect-contacts.outputs }} {{ steps['collect-contacts'].outputs }}"}
"""
    assert _issues(body) == [
        "f.yaml:9:30: error: steps[1].with.message: unknown name 'contacts'\n"
        "    hint: expressions read params, org, item, steps and run",
        "f.yaml:9:30: error: steps[1].with.message: unknown step 'steps.collect'\n"
        "    hint: '-' is subtraction in an expression: write steps['collect-contacts']",
    ]


_pieces = st.sampled_from(
    [
        "{{ params.a }}",
        "{{x}}",
        "{{ steps.s.outputs.n }}",
        "{{ true }}",
        "{{ a-b }}",
        "{{- a }}",
        "{% if x %}",
        "{% endif %}",
        "{# c #}",
        "}}",
        "{",
        "}",
        "text ",
        "{{ a.0 }}",
        "{{ a[1] }}",
        "{{ loop.index }}",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=6).map("".join), st.booleans())
def test_simple_references_agree_with_jinja(src: str, template: bool) -> None:
    fast = simple_references(src, template=template)
    if fast is None:
        return
    try:
        slow = references(src, template=template)
    except ExpressionError:
        raise AssertionError(f"fast path accepted what Jinja refuses: {src!r}") from None
    assert fast == slow, src
