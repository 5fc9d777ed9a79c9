"""Human decisions for `approval` and `checklist` steps: supplied, prompted, or asked in the Prefect UI.

Three sources, tried in order: decisions supplied with the run (CLI `--approve`, `--confirm`, an
inputs file, or the deployment's `decisions` parameter); an interactive terminal prompt; a Prefect
pause with a typed RunInput form (deployment runs, resumed from the UI).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from golive.tasks.context import Approval, Confirmation, HumanInput, InputRequest
from golive.tasks.foundation.errors import UserInputError

Asker = Callable[[InputRequest], HumanInput | None]
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
            "confirmations": {k: c if c == "all" else {"items": sorted(c.confirmed), "name": c.name}
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
                                                       name=str(value.get("name", "")))
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


def pause_for_input(request: InputRequest, timeout_s: float | None) -> HumanInput:
    """Pause the flow run until someone submits the typed form in the Prefect UI."""
    from prefect.flow_runs import pause_flow_run
    from prefect.input import RunInput
    from pydantic import create_model

    key = re.sub(r"[^a-z0-9-]+", "-", request.step_key.lower()).strip("-")
    timeout = int(timeout_s or 7 * 86400)
    if request.kind == "approval":
        roles = tuple(request.approvers)
        # Built at run time: the role dropdown lists this step's approvers.
        fields: dict[str, Any] = {"decision": (Literal["approve", "reject"], ...), "name": (str, ...),
                                  "role": (Literal[roles], ...), "comment": (str, "")}
        model: Any = create_model("ApprovalForm", __base__=RunInput, **fields)
        form: Any = pause_flow_run(wait_for_input=model.with_initial_data(description=request.question), timeout=timeout, key=key)
        return Approval(decision=form.decision, name=form.name, role=form.role, comment=form.comment)
    from pydantic import Field

    # Item ids contain dashes, so each checkbox gets a positional field name and the item text as title.
    items: dict[str, Any] = {
        f"item_{n}": (bool, Field(False, title=f"{item_id}: {text}")) for n, (item_id, text) in enumerate(request.items)
    }
    checklist_model: Any = create_model("ChecklistForm", __base__=RunInput, name=(str, ...), **items)
    checklist_form: Any = pause_flow_run(wait_for_input=checklist_model.with_initial_data(description=request.question),
                                         timeout=timeout, key=key)
    return Confirmation(
        confirmed=frozenset(
            item_id for n, (item_id, _) in enumerate(request.items) if getattr(checklist_form, f"item_{n}")
        ),
        name=checklist_form.name,
    )
