"""The shape of a step kind, shared by the registry and every kind module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tasks.context import InputRequest, StepContext

RunFn = Callable[[StepContext, dict[str, Any]], dict[str, Any]]
InputFn = Callable[[dict[str, Any], str], InputRequest | None]


@dataclass(frozen=True)
class StepKind:
    """A step kind: `run(ctx, params) -> outputs` (a JSON-able dict), plain Python.

    `side_effects`: a completed run is never repeated under the same run key, even when its
    inputs changed. `request_input(params, step_key)`: the human decision it needs, if any.
    `expression_fields`: keys of `with:` that hold bare expressions, evaluated by the kind
    through `ctx.evaluate` rather than rendered as templates beforehand.
    `observes`: the kind reads state outside its inputs (metrics in the store, a live endpoint),
    so its result is never reused on resume: a gate re-run on new data must decide again.
    """

    name: str
    run: RunFn
    summary: str
    side_effects: bool = False
    request_input: InputFn | None = None
    expression_fields: frozenset[str] = frozenset()
    observes: bool = False
