"""The shape of a step kind's implementation, shared by the registry and every kind module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the registry (and so `golive validate`) never loads the run context
    from golive.tasks.context import InputRequest, StepContext

RunFn = Callable[["StepContext", dict[str, Any]], dict[str, Any]]
InputFn = Callable[[dict[str, Any], str], "InputRequest | None"]


@dataclass(frozen=True)
class StepKind:
    """A kind's code: `run(ctx, params) -> outputs` (a JSON-able dict), plain Python.

    `request_input(params, step_key)`: the human decision it needs, if any. What the engine must
    know before running it (summary, flags) is declared once, in `golive.tasks.registry`, so that
    validating a runbook never imports a kind's implementation (torch, scipy, highdicom, ...).
    """

    name: str
    run: RunFn
    request_input: InputFn | None = None
