"""`expect`: fail the step with a message when a bare expression is false."""

from __future__ import annotations

from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.kind import StepKind


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    value = ctx.evaluate(params["that"])
    if not value:
        raise StepFailed(params.get("message") or f"expectation failed: {params['that']}")
    return {"passed": True}


KIND = StepKind(name="expect", run=run)
KINDS = (KIND,)
