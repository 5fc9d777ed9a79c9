"""`expect`: fail the step with a message when a bare expression is false."""

from __future__ import annotations

from typing import Any

from flows.errors import StepFailed
from tasks.context import StepContext
from tasks.kind import StepKind


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    value = ctx.evaluate(params["that"])
    if not value:
        raise StepFailed(params.get("message") or f"expectation failed: {params['that']}")
    return {"passed": True}


KIND = StepKind(
    name="expect",
    run=run,
    summary="Fail with a message when the expression `that` is false",
    expression_fields=frozenset({"that"}),
)
