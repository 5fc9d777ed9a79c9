"""The one Prefect task every step runs in: a thin wrapper around a step kind's plain `run`.

The executor records each step's start in the audit log as it hands the step to Prefect; this
wrapper runs the kind inside a step unit and records the completed result, the kind's audit
entries and (for `atomic` kinds) its store writes in one transaction before returning. Failures are
recorded by the executor once Prefect's retries are exhausted.

A step that fails with one of our errors (a check that is false, a rejection, a connector that is
down) returns a Failed state with the message instead of raising: Prefect then logs one line for it
(and still retries it), not a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.states import Failed, State

from golive.flows.engine.expressions import evaluate
from golive.flows.engine.report_links import link_markdown, public_url
from golive.flows.engine.scope import jsonable
from golive.tasks.context import HumanInput, StepContext
from golive.tasks.foundation import crash
from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.foundation.errors import GoliveError, StepFailed
from golive.tasks.registry import STEP_KINDS

_KEY_UNSAFE = re.compile(r"[^a-z0-9-]+")


class PrefectArtifacts:
    """Step-kind artifacts published as Prefect artifacts (keys: lowercase letters, digits, dashes)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return _KEY_UNSAFE.sub("-", f"{self.prefix}-{key}".lower()).strip("-")[:100]

    def table(self, key: str, rows: Sequence[Mapping[str, Any]], description: str = "") -> None:
        create_table_artifact(key=self._key(key), table=[dict(jsonable(r)) for r in rows], description=description)

    def markdown(self, key: str, text: str, description: str = "") -> None:
        create_markdown_artifact(key=self._key(key), markdown=link_markdown(text), description=description)

    def link(self, key: str, target: str, description: str = "") -> None:
        # A file under out/ becomes an http URL of golive's report server: the UI cannot open file://.
        url = public_url(target)
        create_link_artifact(key=self._key(key), link=url, link_text=Path(target).name or url, description=description)


@dataclass
class StepCall:
    """Everything one step run needs; passed to the task quoted, so Prefect does not walk it."""

    run_id: str
    run_key: str
    runbook: str
    step_id: str
    key: str
    uses: str
    params: dict[str, Any]
    scope: dict[str, Any]
    input_hash: str
    item: Any = None
    owner: str | None = None
    human_input: HumanInput | None = None
    store: Any = None
    org: Any = None
    out_dir: Path = Path("out")
    run_started: datetime | None = None
    timeline: date | None = None  # the run's day on the program's timeline
    dues: DueCalendar | None = None
    due_on: str | None = None  # the step's `due:` as a day of the run's calendar
    record: bool = True  # undo bodies are audited but not recorded as step results
    extra_audit: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None  # set by `execute`; read back without an API round trip


def start_entry(call: StepCall) -> dict[str, Any]:
    """The audit data of a step's start (the executor writes it as it hands the step to Prefect)."""
    due = {"due": call.due_on} if call.due_on else {}
    return dict(jsonable({"step": call.key, "uses": call.uses, "owner": call.owner, **due, **call.extra_audit}))


def execute(call: StepCall, logger: logging.Logger | logging.LoggerAdapter[Any]) -> dict[str, Any]:
    """Run one step kind; plain Python apart from the artifacts sink (so tests can call it).

    The kind's audit entries (and, for an `atomic` kind, its store writes) are held in a step unit
    and commit in one transaction with the step's result: a crash before that commit leaves
    nothing of the step, one after it leaves all of it, so a resumed run does it exactly once.
    """
    if call.store is None:
        return _run_kind(call, logger, lambda event, data: None)
    spec = STEP_KINDS[call.uses]
    started = datetime.now(UTC)
    with call.store.step_unit(call.run_id, join=spec.atomic) as unit:
        crash.point(call.uses, "before", call.key)
        try:
            outputs = _run_kind(call, logger, lambda event, data: unit.audit(event, dict(jsonable(data))))
        except BaseException:
            unit.commit()  # what the kind did before it failed (a rejection, a no-go verdict) is kept
            raise
        crash.point(call.uses, "effect", call.key)
        end = ("step.end", {"step": call.key, "state": "completed", **call.extra_audit})
        if call.record:
            call.store.record_step(run_id=call.run_id, run_key=call.run_key, step_key=call.key, step_id=call.step_id,
                                   state="completed", input_hash=call.input_hash, outputs=outputs,
                                   started_at=started, finished_at=datetime.now(UTC), audit=end, unit=unit)
        else:
            unit.commit([end])
    crash.point(call.uses, "after", call.key)
    return outputs


def _run_kind(call: StepCall, logger: logging.Logger | logging.LoggerAdapter[Any],
              audit: Any) -> dict[str, Any]:
    kind = STEP_KINDS[call.uses]
    ctx = StepContext(
        run_id=call.run_id, run_key=call.run_key, runbook=call.runbook, step_id=call.step_id,
        step_key=call.key, params=call.scope.get("params", {}), org=call.org, item=call.item,
        store=call.store, out_dir=call.out_dir, human_input=call.human_input, run_started=call.run_started,
        timeline_day=call.timeline, dues=call.dues,
        scope=call.scope, artifacts=PrefectArtifacts(f"{call.runbook}-{call.key}"),
        evaluate=lambda expr: evaluate(expr, call.scope),
        audit=audit,
        logger=logger,  # type: ignore[arg-type]
    )
    outputs = jsonable(kind.run(ctx, call.params) or {})
    call.outputs = outputs
    return dict(outputs)


@task(name="step", cache_policy=NO_CACHE, persist_result=False)
def run_step(call: StepCall) -> dict[str, Any] | State[Any]:
    try:
        return execute(call, get_run_logger())
    except GoliveError as exc:  # the executor reads the error back with future.result(raise_on_failure=False)
        return Failed(message=str(exc), data=exc)


@task(name="step", cache_policy=NO_CACHE, persist_result=False, retries=0)
def failed_before_start(message: str) -> State[Any]:
    """A step that failed before its task could start (an expression, a rendered `with:`): shown in
    the UI as a failed task run with the reason, like any other failed step."""
    return Failed(message=message, data=StepFailed(message))
