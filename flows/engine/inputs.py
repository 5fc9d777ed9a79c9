"""Human decisions for `approval` and `checklist` steps: supplied, prompted, or asked in the Prefect UI.

Three sources, tried in order: decisions supplied with the run (CLI `--approve`, `--confirm`, an
inputs file, or the deployment's `decisions` parameter); an interactive terminal prompt; a typed
RunInput form in the Prefect UI.

A deployment run waiting for a person is *suspended* (Prefect's `suspend_flow_run`): its process
exits and the worker holds nothing while the approval takes days. Resume puts the run back on its
work pool; the flow starts again from the top under the same run key, completed steps come back
from the store (cached, not repeated), and each answered form returns its stored input at once
(Prefect keeps the run's fired pause keys). A flow run without a deployment (tests, an in-process
run given `in_deployment`) cannot be rescheduled, so it pauses in its live process instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from golive.tasks.context import Approval, Confirmation, HumanInput, InputRequest
from golive.tasks.foundation.dues import DueCalendar
from golive.tasks.foundation.errors import UserInputError

Asker = Callable[[InputRequest], HumanInput | None]
Started: TypeAlias = "DueCalendar | datetime | None"  # what due dates count from: a run's calendar, or its start
_APPROVE = re.compile(r"^(?P<step>[^=]+)=(?P<name>[^:]+):(?P<role>[^:]+)(?::(?P<decision>approve|reject))?$")


@dataclass(frozen=True)
class Decisions:
    """Decisions given up front, keyed by step key (`id` or `id[item]`) or step id."""

    approvals: Mapping[str, Approval] = field(default_factory=dict)
    confirmations: Mapping[str, Confirmation | Literal["all"]] = field(default_factory=dict)

    def for_request(self, request: InputRequest) -> HumanInput | None:
        step_id = request.step_key.split("[", 1)[0]
        if request.kind == "approval":
            return self.approvals.get(request.step_key) or self.approvals.get(step_id)
        found = self.confirmations.get(request.step_key) or self.confirmations.get(step_id)
        if found == "all":
            return Confirmation(confirmed=frozenset(i for i, _ in request.items), name="golive CLI")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "approvals": {k: {"decision": a.decision, "name": a.name, "role": a.role, "comment": a.comment}
                          for k, a in self.approvals.items()},
            "confirmations": {k: c if c == "all" else {"items": sorted(c.confirmed), "name": c.name,
                                                          **({"comment": c.comment} if c.comment else {})}
                              for k, c in self.confirmations.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Decisions:
        """Parse the `decisions` flow parameter or an inputs file; UserInputError on bad shape."""
        data = data or {}
        if not isinstance(data, Mapping) or set(data) - {"approvals", "confirmations"}:
            raise UserInputError("decisions must be a mapping with 'approvals' and/or 'confirmations'")
        approvals: dict[str, Approval] = {}
        for key, value in (data.get("approvals") or {}).items():
            try:
                decision = value.get("decision", "approve")
                if decision not in ("approve", "reject"):
                    raise ValueError(f"decision must be approve or reject, not {decision!r}")
                approvals[str(key)] = Approval(decision=decision, name=str(value["name"]), role=str(value["role"]),
                                               comment=str(value.get("comment", "")))
            except (AttributeError, KeyError, ValueError) as exc:
                raise UserInputError(f"approval for {key!r}: needs name and role ({exc})") from None
        confirmations: dict[str, Confirmation | Literal["all"]] = {}
        for key, value in (data.get("confirmations") or {}).items():
            if value == "all":
                confirmations[str(key)] = "all"
            elif isinstance(value, Mapping) and isinstance(value.get("items"), list):
                confirmations[str(key)] = Confirmation(confirmed=frozenset(map(str, value["items"])),
                                                       name=str(value.get("name", "")),
                                                       comment=str(value.get("comment", "")))
            elif isinstance(value, list):
                confirmations[str(key)] = Confirmation(confirmed=frozenset(map(str, value)))
            else:
                raise UserInputError(f"confirmation for {key!r}: give 'all', a list of item ids, or {{items, name}}")
        return cls(approvals=approvals, confirmations=confirmations)


def parse_approve_flag(text: str) -> tuple[str, Approval]:
    """`STEP=NAME:ROLE[:reject]` (also `:approve`)."""
    match = _APPROVE.match(text.strip())
    if not match:
        raise UserInputError(f"--approve {text!r}: expected STEP=NAME:ROLE[:reject]")
    return match["step"].strip(), Approval(decision=match["decision"] or "approve",  # type: ignore[arg-type]
                                           name=match["name"].strip(), role=match["role"].strip())


def _required_all(schema: dict[str, Any]) -> None:
    # Checklist boxes default to unticked (so a partial answer can be submitted) yet show as required;
    # the comment (issues found, learnings: the wave debrief prints it) stays optional.
    schema["required"] = [p for p in schema.get("properties", {}) if p != "comment"]


def _due_note(due: str | None, started: Started) -> str:
    if not due:
        return ""
    if started is None:
        return due
    calendar = started if isinstance(started, DueCalendar) else DueCalendar(started.date())
    return f"{calendar.day(due).isoformat()} ({due})"


def _item_note(request: InputRequest, n: int, started: Started) -> str:
    owner = request.owners[n] if n < len(request.owners) else None
    due = _due_note(request.dues[n] if n < len(request.dues) else None, started)
    return "; ".join(x for x in (f"owner: {owner}" if owner else "", f"due: {due}" if due else "") if x)


def waiting_note(request: InputRequest, started: Started = None) -> str:
    """Markdown that names the step, its question and who may answer (state message, artifact, form)."""
    if request.kind == "approval":
        return (f"**{request.step_key}** waits for an approval: {request.question}\n\n"
                f"Roles that may decide: {', '.join(request.approvers)}")
    lines = [f"**{request.step_key}** waits for a checklist: {request.question}", ""]
    for n, (item_id, text) in enumerate(request.items):
        extra = _item_note(request, n, started)
        lines.append(f"- {item_id}: {text}" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


def _propose_wait(state: Any, model: Any) -> tuple[Any, Any, Any]:
    """Propose a Paused or Suspended `state` carrying the form's input keyset; returns (flow run id,
    keyset, the state Prefect accepted). A Running answer means this key was answered before (a rerun
    of the same pause): the caller loads the stored input. Otherwise the form is saved for the UI."""
    from prefect import get_client
    from prefect.context import FlowRunContext
    from prefect.exceptions import Abort
    from prefect.input import keyset_from_paused_state
    from prefect.utilities.engine import propose_state_sync

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("a form can only be asked for inside a flow run")
    keyset = keyset_from_paused_state(state)
    state.state_details.run_input_keyset = dict(keyset)
    with get_client(sync_client=True) as client:
        try:
            proposed = propose_state_sync(client=client, state=state, flow_run_id=context.flow_run.id)
        except Abort as exc:
            raise RuntimeError(f"flow run cannot wait for input: {exc}") from None
    if not proposed.is_running():
        if not proposed.is_paused():
            raise RuntimeError(f"flow run cannot wait for input: {proposed}")
        model.save(keyset)
    return context.flow_run.id, keyset, proposed


def _pause(model: Any, key: str, timeout: int, message: str) -> Any:
    """Prefect's `pause_flow_run(wait_for_input=...)`, plus a state message that names the step and roles,
    and a 1 s poll instead of 10 s (a resumed run continues at once)."""
    from prefect import get_client
    from prefect.exceptions import FlowPauseTimeout
    from prefect.states import Paused

    run_id, keyset, proposed = _propose_wait(
        Paused(timeout_seconds=timeout, reschedule=False, pause_key=key, message=message[:1000]), model)
    if proposed.is_running():
        return model.load(keyset)
    end = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < end:
            time.sleep(1.0)
            run = client.read_flow_run(run_id)
            if run.state is not None and run.state.is_running():
                return model.load(keyset)
    raise FlowPauseTimeout(f"{message.splitlines()[0]}: nobody answered within {timeout} s")


ENV_WAIT = "GOLIVE_HUMAN_WAIT"  # `pause` keeps a deployment run's process alive while it waits


def can_suspend() -> bool:
    """True in a deployment's flow run (Prefect reschedules it on resume), unless GOLIVE_HUMAN_WAIT=pause."""
    import os

    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if os.environ.get(ENV_WAIT, "suspend") == "pause" or context is None or context.flow_run is None:
        return False
    return context.flow_run.deployment_id is not None


def _fired(key: str) -> bool:
    """True when this run suspended on `key` before and was resumed (its input is stored)."""
    from prefect import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return False
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(context.flow_run.id)
    return key in (run.empirical_policy.pause_keys or set())


def _suspend(model: Any, key: str, timeout: int, message: str) -> Any:
    """Prefect's `suspend_flow_run(wait_for_input=...)` (prefect 3.9.1, pinned), plus the state message
    that names the step and roles, which Prefect's function cannot set: the first time, it saves the
    form, sets the run Suspended and raises `Pause` (the process exits); after Resume, it returns the
    stored input."""
    from prefect._flow_run_suspension import mark_flow_run_suspension_requested
    from prefect.exceptions import Pause
    from prefect.logging import get_run_logger
    from prefect.states import Suspended

    run_id, keyset, proposed = _propose_wait(Suspended(timeout_seconds=timeout, pause_key=key,
                                                       message=message[:1000]), model)
    if proposed.is_running():  # suspended on this key before and resumed: the stored answer
        return model.load(keyset)
    get_run_logger().info("Suspended until someone answers: %s", message.splitlines()[0])
    mark_flow_run_suspension_requested(run_id, proposed)
    raise Pause(state=proposed)


class Waiter:
    """How one run waits for a person: suspend (deployment runs) or a live pause; `before_suspend`
    runs once before the process gives up (the executor lets steps already running finish)."""

    def __init__(self, suspend: bool, before_suspend: Callable[[], None] | None = None) -> None:
        self.suspend, self.before_suspend = suspend, before_suspend

    def answered(self, key: str) -> bool:
        return self.suspend and _fired(key)

    def wait(self, model: Any, key: str, timeout: int, message: str) -> Any:
        if not self.suspend:
            return _pause(model, key, timeout, message)
        if self.before_suspend is not None and not _fired(key):
            self.before_suspend()
        return _suspend(model, key, timeout, message)


def enum_of(values: list[str]) -> dict[str, Any]:
    return {"enum": values}


def _publish(key: str, note: str) -> str | None:
    """The `waiting-<step>` artifact, and a log line with the run's address for whoever must answer;
    returns that address (None when the Prefect UI's URL is unknown)."""
    from prefect.artifacts import create_markdown_artifact
    from prefect.context import FlowRunContext
    from prefect.logging import get_run_logger
    from prefect.utilities.urls import url_for

    context = FlowRunContext.get()
    url = url_for(context.flow_run) if context is not None and context.flow_run is not None else None
    text = note + (f"\n\nAnswer with **Resume** at {url}" if url else "")
    create_markdown_artifact(key=f"waiting-{key}"[:100], markdown=text, description="What this run waits for")
    flat = " ".join(line.strip() for line in note.splitlines() if line.strip()).replace("**", "")
    get_run_logger().info("%s%s", flat, f" (answer at {url})" if url else "")
    return url


def approval_form(request: InputRequest) -> Any:
    """The approval's RunInput: decision, name, role (an enum of the approvers; one is preselected), comment."""
    from prefect.input import RunInput
    from pydantic import Field, create_model

    roles = list(request.approvers)
    role_default: Any = roles[0] if len(roles) == 1 else ...
    fields: dict[str, Any] = {
        "decision": (Literal["approve", "reject"], ...),
        "name": (str, Field(..., min_length=1, description="Your name, as it goes into the audit log.")),
        "role": (str, Field(role_default, json_schema_extra=enum_of(roles), description=f"May decide: {', '.join(roles)}")),
        "comment": (str, ""),
    }
    return create_model("ApprovalForm", __base__=RunInput, **fields)


def checklist_form(request: InputRequest, confirmed: set[str],
                   started: Started = None) -> tuple[Any, dict[str, str]]:
    """The checklist's RunInput for the items not yet confirmed, and its field name → item id map.

    Item ids contain dashes, so each checkbox gets a positional field name and the item text as title.
    """
    from prefect.input import RunInput
    from pydantic import ConfigDict, Field, create_model

    class ChecklistBase(RunInput):
        model_config = ConfigDict(json_schema_extra=_required_all)

    positions = {f"item_{n}": item_id for n, (item_id, _) in enumerate(request.items) if item_id not in confirmed}
    texts = dict(request.items)
    notes = {item_id: _item_note(request, n, started) for n, (item_id, _) in enumerate(request.items)}
    items: dict[str, Any] = {
        field_name: (bool, Field(False, title=f"{item_id}: {texts[item_id]}", description=notes[item_id] or None))
        for field_name, item_id in positions.items()
    }
    name = (str, Field(..., min_length=1, description="Your name."))
    comment = (str, Field("", description="What you found: issues, learnings (reports print it; never patient data)."))
    return create_model("ChecklistForm", __base__=ChecklistBase, name=name, comment=comment, **items), positions


OnPause = Callable[[InputRequest, str, str, "str | None"], None]


def pause_for_input(request: InputRequest, timeout_s: float | None, started: Started = None,
                    on_pause: OnPause | None = None, waiter: Waiter | None = None) -> HumanInput:
    """Pause the flow run until someone submits the typed form in the Prefect UI.

    An approval's role is an enum of the step's approvers (one role: preselected; Prefect's UI
    greys out a JSON-schema `const`, which a one-value Literal would give). A checklist with items
    left open pauses again for those items; the run never fails for an unticked box. `on_pause`
    (request, pause key, note, run URL) runs before each pause: it tells the people it waits for.
    A suspended run that comes back after Resume finds its answered pause keys fired: it loads their
    input without publishing or telling anyone again.
    """
    from prefect.logging import get_run_logger

    logger = get_run_logger()
    waiter = waiter or Waiter(suspend=False)
    key = re.sub(r"[^a-z0-9-]+", "-", request.step_key.lower()).strip("-")
    timeout = int(timeout_s or 7 * 86400)
    if request.kind == "approval":
        note = waiting_note(request, started)
        if not waiter.answered(key):
            url = _publish(key, note)
            if on_pause is not None:
                on_pause(request, key, note, url)
        form: Any = waiter.wait(approval_form(request).with_initial_data(description=note), key, timeout, note)
        logger.info("%s: %s decided %s as %s", request.step_key, form.name, form.decision, form.role)
        return Approval(decision=form.decision, name=form.name, role=form.role, comment=form.comment)

    confirmed: set[str] = set()
    names: list[str] = []
    comments: list[str] = []
    attempt = 0
    while True:
        checklist_model, positions = checklist_form(request, confirmed, started)
        pending = InputRequest(kind="confirm", step_key=request.step_key, question=request.question,
                               items=tuple(i for i in request.items if i[0] not in confirmed),
                               owners=_kept(request, confirmed, request.owners),
                               dues=_kept(request, confirmed, request.dues))
        pending_note = waiting_note(pending, started)
        pause_key = key if attempt == 0 else f"{key}-{attempt}"
        if not waiter.answered(pause_key):
            url = _publish(key, pending_note)
            if on_pause is not None:
                on_pause(pending, pause_key, pending_note, url)
        answer: Any = waiter.wait(checklist_model.with_initial_data(description=pending_note), pause_key, timeout,
                                  pending_note)
        ticked = {item_id for field_name, item_id in positions.items() if getattr(answer, field_name)}
        confirmed |= ticked
        names.append(answer.name)
        if getattr(answer, "comment", ""):
            comments.append(str(answer.comment).strip())
        open_items = [i for i in request.items if i[0] not in confirmed]
        logger.info("%s: %s confirmed %s; open: %s", request.step_key, answer.name,
                    ", ".join(sorted(ticked)) or "nothing", ", ".join(i for i, _ in open_items) or "none")
        if not open_items:
            return Confirmation(confirmed=frozenset(confirmed), name=", ".join(dict.fromkeys(names)),
                                comment="\n\n".join(c for c in comments if c))
        attempt += 1


def _kept(request: InputRequest, confirmed: set[str], values: tuple[str | None, ...]) -> tuple[str | None, ...]:
    return tuple(v for (item_id, _), v in zip(request.items, values, strict=False) if item_id not in confirmed)
