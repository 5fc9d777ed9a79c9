"""Runs a validated runbook's steps as Prefect task runs: dependencies, fan-out, skips, failure policy,
rollback with undo, resume from the store, human decisions. Called inside the entry flow.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from prefect.futures import PrefectConcurrentFuture, PrefectFuture
from prefect.utilities.annotations import quote

from golive.flows.engine.decider_message import tell_deciders
from golive.flows.engine.expressions import evaluate, render_value
from golive.flows.engine.hooks import HOOKS
from golive.flows.engine.inputs import Decisions, Waiter, can_suspend, pause_for_input
from golive.flows.engine.model import OnFailure, Runbook, Step, StepBody
from golive.flows.engine.rendered import check_rendered
from golive.flows.engine.scope import input_hash, item_label, jsonable
from golive.flows.engine.step_task import StepCall, failed_before_start, run_step, start_entry
from golive.tasks.context import HumanInput, InputRequest
from golive.tasks.foundation import clock
from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.foundation.errors import ExpressionError, GoliveError
from golive.tasks.registry import STEP_KINDS

log = logging.getLogger(__name__)


@dataclass
class ItemResult:
    key: str
    state: str  # completed | cached | failed | skipped | rolled_back
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    item: Any = None


@dataclass
class StepStatus:
    step: Step
    state: str = "pending"  # pending | running | completed | failed | skipped
    items: list[ItemResult] = field(default_factory=list)
    fan_out: bool = False
    blocked: bool = False  # skipped because something it needs failed (a `when` skip is not blocking)

    def scope_entry(self) -> dict[str, Any]:
        if self.fan_out:
            outs = [r.outputs for r in self.items]
            return {"state": self.state, "outputs": outs, "items": {r.key: r.outputs for r in self.items}}
        return {"state": self.state, "outputs": self.items[0].outputs if self.items else {}}


@dataclass
class RunContext:
    """What the executor needs from its caller (the entry flow)."""

    run_id: str
    run_key: str
    runbook: Runbook
    params: dict[str, Any]
    store: Any
    org: Any
    decisions: Decisions
    out_dir: Path
    started: datetime
    timeline: date | None = None  # the run's day on the program's timeline (flows/engine/timeline.py)
    in_deployment: bool = False
    dues: DueCalendar | None = None  # what `due:` dates count from (flows/engine/dues.py)
    org_digest: str = ""  # the organization file's hash: pure steps recompute when it changes


class Executor:
    def __init__(self, rc: RunContext, steps: Iterable[Step], *, prior: Mapping[str, StepStatus] | None = None):
        self.rc = rc
        self.status = {s.id: StepStatus(s) for s in steps}
        self.prior = dict(prior or {})  # statuses visible to expressions (main steps, for on_failure)
        self.running: dict[PrefectFuture[Any], tuple[StepStatus, ItemResult, StepCall]] = {}
        self.finished: queue.Queue[PrefectFuture[Any]] = queue.Queue()
        self.ready: list[tuple[Any, StepStatus, ItemResult, StepCall]] = []  # launched, not yet submitted
        self.completion: list[tuple[StepStatus, ItemResult, StepCall]] = []
        self.halted = False
        self.rollback = False
        self.failed = False
        self.resumable = rc.store.completed_steps(rc.run_key)  # one query, not one per step
        # The `steps` part of every scope, rebuilt only when a step settles (not once per launch:
        # 200 ready steps would otherwise build 200 x 200 entries). Never mutated once built.
        self._steps_scope: dict[str, Any] | None = None

    def timeline_day(self) -> date:
        return self.rc.timeline or self.rc.started.date()

    # -- scope ---------------------------------------------------------------------------------
    def scope(self, item: Any = None, has_item: bool = False) -> dict[str, Any]:
        if self._steps_scope is None:
            self._steps_scope = {sid: st.scope_entry() for sid, st in {**self.prior, **self.status}.items()
                                 if st.state not in ("pending", "running")}
        steps = self._steps_scope
        scope = {"params": self.rc.params, "org": self.rc.org, "steps": steps,
                 "run": {"id": self.rc.run_id, "key": self.rc.run_key, "runbook": self.rc.runbook.name,
                         "started": self.rc.started.isoformat(), "day": self.timeline_day().isoformat()}}
        if has_item:
            scope["item"] = item
        return scope

    # -- scheduling ----------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            launched = False
            if not self.halted:
                for st in self.status.values():
                    if st.state == "pending" and self._ready(st):
                        self._launch(st)
                        launched = True
            self._submit_ready()
            if not self.running:
                if launched:
                    continue
                break
            self._finish(self.finished.get())
        for st in self.status.values():
            if st.state == "pending":
                self._resolve(st, "skipped", note="not run: the run stopped before it")

    def _ready(self, st: StepStatus) -> bool:
        needs = [self.status[n] for n in st.step.needs]
        if any(n.state in ("pending", "running") for n in needs):
            return False
        failed = [n.step.id for n in needs if n.state == "failed" or n.blocked]
        if failed:
            st.blocked = True  # its own dependents are skipped too, not run on a partial chain
            self._resolve(st, "skipped", note=f"needs {', '.join(failed)}, which failed or did not run")
            return False
        return True

    def _resolve(self, st: StepStatus, state: str, note: str | None = None) -> None:
        st.state = state
        self._steps_scope = None
        if not st.items:
            st.items.append(ItemResult(key=st.step.id, state=state, error=note))
        HOOKS.emit("step", {"key": st.step.id, "state": state, "note": note})
        self._record_nonrun(st.step.id, st.step.id, state, note)

    def _record_nonrun(self, step_id: str, key: str, state: str, note: str | None, outputs: Any = None,
                       digest: str = "") -> None:
        self.rc.store.record_step(run_id=self.rc.run_id, run_key=self.rc.run_key, step_key=key, step_id=step_id,
                                  state=state, input_hash=digest, outputs=outputs or {}, error=note)

    def _launch(self, st: StepStatus) -> None:
        step = st.step
        try:
            if step.for_each:
                st.fan_out = True
                items = evaluate(step.for_each, self.scope())
                if not isinstance(items, list | tuple):
                    raise ExpressionError(f"for_each of {step.id} gave {type(items).__name__}, not a list")
                pairs = [(f"{step.id}[{item_label(it, i)}]", it, True) for i, it in enumerate(items)]
            else:
                pairs = [(step.id, None, False)]
        except ExpressionError as exc:
            self._fail_now(st, ItemResult(key=step.id, state="failed", error=str(exc)))
            return
        st.state = "running"
        for key, item, has_item in pairs:
            self._launch_item(st, key, item, has_item)
        self._settle(st)

    def _launch_item(self, st: StepStatus, key: str, item: Any, has_item: bool) -> None:
        step, kind = st.step, STEP_KINDS[st.step.uses]
        scope = self.scope(item, has_item)
        result = ItemResult(key=key, state="running", item=item)
        st.items.append(result)
        try:
            if step.when and not evaluate(step.when, scope):
                result.state = "skipped"
                self._record_nonrun(step.id, key, "skipped", "when was false")
                HOOKS.emit("step", {"key": key, "state": "skipped"})
                return
            params = render_value(step.body.with_, scope, kind.expression_fields)
            if params != step.body.with_:  # untemplated `with:` was fully checked at validation
                check_rendered(step.uses, key, params)
        except ExpressionError as exc:
            result.state, result.error = "failed", str(exc)
            self._show_failed(st.step.id, key, result.error)
            self._record_nonrun(step.id, key, "failed", result.error)
            self._on_item_failed(st, result)
            return
        digest = input_hash(step.uses, params, jsonable(item), self.rc.org_digest)
        previous = None if kind.observes else self.resumable.get(key)
        if previous is not None and (previous.input_hash == digest or kind.side_effects):
            result.state, result.outputs = "cached", dict(previous.outputs or {})
            self._record_nonrun(step.id, key, "cached", None, result.outputs, digest)
            call = self._call(st, key, step.body, params, scope, digest, item)
            self.completion.append((st, result, call))
            HOOKS.emit("step", {"key": key, "state": "cached"})
            return
        call = self._call(st, key, step.body, params, scope, digest, item)
        if kind.request_input is not None:
            request = kind.request_input(params, key)
            if request is not None:
                call.human_input = self._ask(request, step)
        task = run_step.with_options(name=step.id, task_run_name=key, retries=step.retries,
                                     retry_delay_seconds=step.retry_delay_s, timeout_seconds=step.timeout_s)
        self.ready.append((task, st, result, call))

    def _submit_ready(self) -> None:
        """Audit the starts of every step made ready in this pass in one write, then submit them."""
        if not self.ready:
            return
        batch, self.ready = self.ready, []
        if self.halted:  # a failure earlier in this pass (e.g. another fan-out item) stopped the run
            for _task, st, result, _call in batch:
                result.state, result.error = "skipped", "not run: the run stopped before it"
                self._record_nonrun(st.step.id, result.key, "skipped", result.error)
                self._settle(st)
            return
        self.rc.store.audit.append_many([("step.start", start_entry(call), call.run_id) for *_, call in batch])
        for task, st, result, call in batch:
            HOOKS.emit("step", {"key": result.key, "state": "running"})
            future = task.submit(quote(call))  # type: ignore[call-overload]  # quote: Prefect passes it unwrapped
            self.running[future] = (st, result, call)
            self._notify_when_done(future)

    def _notify_when_done(self, future: PrefectFuture[Any]) -> None:
        # One callback per future (as_completed would re-register on every pass: quadratic).
        if isinstance(future, PrefectConcurrentFuture):
            future.wrapped_future.add_done_callback(lambda _: self.finished.put(future))
        else:
            future.add_done_callback(self.finished.put)

    def _call(self, st: StepStatus, key: str, body: StepBody, params: dict[str, Any], scope: dict[str, Any],
              digest: str, item: Any) -> StepCall:
        return StepCall(run_id=self.rc.run_id, run_key=self.rc.run_key, runbook=self.rc.runbook.name,
                        step_id=st.step.id, key=key, uses=body.uses, params=params, scope=scope, input_hash=digest,
                        item=item, owner=st.step.owner, store=self.rc.store, org=self.rc.org,
                        out_dir=self.rc.out_dir, run_started=self.rc.started, timeline=self.timeline_day(),
                        dues=self.rc.dues,
                        due_on=self.rc.dues.day(st.step.due).isoformat() if (self.rc.dues and st.step.due) else None)

    def _ask(self, request: InputRequest, step: Step) -> HumanInput | None:
        supplied = self.rc.decisions.for_request(request)
        if supplied is not None:
            return supplied
        if HOOKS.ask is not None:
            return HOOKS.ask(request)
        if self.rc.in_deployment:
            waiter = Waiter(suspend=can_suspend(), before_suspend=self._let_running_finish)
            return pause_for_input(request, step.timeout_s, self.rc.dues or self.rc.started,
                                   on_pause=self._tell_deciders, waiter=waiter)
        return None

    def _let_running_finish(self) -> None:
        """Before the run suspends (its process exits), steps already handed to Prefect finish and record
        their results, so the resumed run finds them completed instead of half done."""
        for future in list(self.running):
            future.wait()

    def _tell_deciders(self, request: InputRequest, pause_key: str, note: str, url: str | None) -> None:
        from prefect.logging import get_run_logger

        tell_deciders(self.rc, request, pause_key, note, url, get_run_logger())

    def _finish(self, future: PrefectFuture[Any]) -> None:
        st, result, call = self.running.pop(future)
        future.wait()  # sets the final state from the worker, not the (eventually consistent) API
        state = future.state
        if state.is_completed():
            # The worker thread left its outputs on the call; `future.result()` costs ~3 ms each.
            result.state = "completed"
            result.outputs = call.outputs if call.outputs is not None else future.result()
            self.completion.append((st, result, call))
            HOOKS.emit("step", {"key": result.key, "state": "completed"})
        else:
            error = future.result(raise_on_failure=False)
            result.state = "failed"
            result.error = str(error) if isinstance(error, BaseException) else (state.message or state.name)
            if isinstance(error, BaseException) and not isinstance(error, GoliveError):
                result.error = f"{type(error).__name__}: {error}"
            self._record_nonrun(st.step.id, result.key, "failed", result.error, digest=call.input_hash)
            call.store.audit.append("step.failed", {"step": result.key, "error": result.error}, run_id=call.run_id)
            self._on_item_failed(st, result)
        self._settle(st)

    def _settle(self, st: StepStatus) -> None:
        if st.state != "running" or any(r.state == "running" for r in st.items):
            return
        self._steps_scope = None  # it enters the scope of the steps launched after it
        if any(r.state == "failed" for r in st.items):
            st.state = "failed"
        elif st.items and all(r.state == "skipped" for r in st.items):
            st.state = "skipped"
        else:
            st.state = "completed"

    @staticmethod
    def _show_failed(step_id: str, key: str, error: str | None) -> None:
        """A failed task run for a step that failed before its task started, so the UI shows it and why."""
        failed_before_start.with_options(name=step_id, task_run_name=key)(error or "failed", return_state=True)

    def _fail_now(self, st: StepStatus, result: ItemResult) -> None:
        self._show_failed(st.step.id, result.key, result.error)
        st.items.append(result)
        st.state = "running"
        self._record_nonrun(st.step.id, result.key, "failed", result.error)
        self._on_item_failed(st, result)
        self._settle(st)

    def _on_item_failed(self, st: StepStatus, result: ItemResult) -> None:
        HOOKS.emit("step", {"key": result.key, "state": "failed", "note": result.error})
        # `continue` only keeps scheduling independent steps; the run still ends failed, so a
        # failed check never reads as a pass.
        self.failed = True
        policy = st.step.on_failure
        if policy is OnFailure.CONTINUE:
            return
        self.halted = True
        if policy is OnFailure.ROLLBACK:
            self.rollback = True

    # -- rollback --------------------------------------------------------------------------------
    def undo_completed(self) -> None:
        """Run the `undo` of every completed step, newest completion first, one at a time."""
        for st, result, call in reversed(self.completion):
            undo = st.step.undo
            if undo is None:
                continue
            kind = STEP_KINDS[undo.uses]
            scope = self.scope(result.item, st.fan_out)
            try:
                params = render_value(undo.with_, scope, kind.expression_fields)
            except ExpressionError as exc:
                self.rc.store.audit.append("undo.failed", {"step": result.key, "error": str(exc)}, run_id=self.rc.run_id)
                continue
            undo_call = self._call(st, f"undo-{result.key}", undo, params, scope, "", result.item)
            undo_call.record = False
            undo_call.extra_audit = {"undo_of": result.key}
            task = run_step.with_options(name=f"undo-{st.step.id}", task_run_name=f"undo-{result.key}")
            HOOKS.emit("step", {"key": f"undo-{result.key}", "state": "running"})
            self.rc.store.audit.append("step.start", start_entry(undo_call), run_id=undo_call.run_id)
            future = task.submit(quote(undo_call))  # type: ignore[call-overload]
            future.wait()
            if future.state.is_completed():
                result.state = "rolled_back"
                self._record_nonrun(st.step.id, result.key, "rolled_back", None, result.outputs, call.input_hash)
                HOOKS.emit("step", {"key": result.key, "state": "rolled_back"})
            else:
                error = future.result(raise_on_failure=False)
                self.rc.store.audit.append("undo.failed", {"step": result.key, "error": str(error)},
                                           run_id=self.rc.run_id)
                HOOKS.emit("step", {"key": f"undo-{result.key}", "state": "failed", "note": str(error)})

    def results(self) -> list[ItemResult]:
        return [r for st in self.status.values() for r in st.items]


def run_steps(rc: RunContext) -> tuple[str, list[ItemResult]]:
    """Run the runbook's steps, then rollback and `on_failure` steps as the failure policy says."""
    main = Executor(rc, rc.runbook.steps)
    main.run()
    final = "completed"
    if main.failed:
        final = "failed"
        if main.rollback:
            main.undo_completed()
            final = "rolled_back"
        rc.store.audit.append("run.failure_handling", {"state": final}, run_id=rc.run_id)
    results = main.results()
    if main.failed and rc.runbook.on_failure:
        cleanup = Executor(rc, rc.runbook.on_failure, prior=main.status)
        cleanup.run()
        results += cleanup.results()
    return final, results


def now() -> datetime:
    """A run's start time: the program's clock (simulated during `golive rehearse`)."""
    return clock.now()
