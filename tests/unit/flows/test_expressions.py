from __future__ import annotations

import pytest

from golive.flows.engine.expressions import evaluate, references, render, render_value
from golive.tasks.foundation.errors import ExpressionError


def test_single_expression_template_keeps_native_type() -> None:
    assert render("{{ [1, 2] }}", {}) == [1, 2]
    assert render("  {{ params.n + 1 }} ", {"params": {"n": 1}}) == 2
    assert render("n={{ params.n }}", {"params": {"n": 1}}) == "n=1"
    assert render("plain text", {}) == "plain text"


def test_undefined_names_fail_loudly() -> None:
    with pytest.raises(ExpressionError, match="params"):
        evaluate("params.missing > 1", {"params": {}})
    with pytest.raises(ExpressionError):
        render("x {{ nope }}", {})


def test_sandbox_refuses_unsafe_attribute_access() -> None:
    with pytest.raises(ExpressionError):
        evaluate("().__class__.__bases__[0].__subclasses__()", {})


def test_render_value_keeps_raw_expression_fields() -> None:
    value = {
        "that": "params.n > 0",
        "message": "n is {{ params.n }}",
        "items": [{"check": "x", "text": "{{ 1 }}"}],
    }
    out = render_value(value, {"params": {"n": 3}}, frozenset({"that", "check"}))
    assert out == {"that": "params.n > 0", "message": "n is 3", "items": [{"check": "x", "text": 1}]}


def test_references_follow_attribute_and_item_chains() -> None:
    refs = references("steps['a-b'].outputs.x > params.n and item.id in org.locations", template=False)
    assert refs == {("steps", "a-b", "outputs", "x"), ("params", "n"), ("item", "id"), ("org", "locations")}


def test_references_ignore_names_bound_in_templates() -> None:
    refs = references("{% for x in params.sites %}{{ x.id }}{% endfor %}", template=True)
    assert refs == {("params", "sites")}
