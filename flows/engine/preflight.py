"""Pre-flight: every decision given before a run is checked against the runbook before any step runs.

A decision for a step that does not exist, whose kind takes no such decision, by a role the
step's `approvers` do not list, or confirming an item the checklist does not have, is refused with
exit 2 and nothing run; an `--inputs` file of the wrong shape is refused at its line and column.
Before this, a wrong role surfaced only when the approval step ran, after notifications went out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from golive.flows.engine.inputs import Decisions
from golive.flows.engine.model import Runbook, Step
from golive.tasks.context import Confirmation
from golive.tasks.foundation.errors import RunbookInvalid, UserInputError
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.schema_check import load_schema, schema_issues
from golive.tasks.foundation.yamlsafe import load_yaml, position
from golive.tasks.registry import STEP_KINDS


def load_inputs(path: Path) -> tuple[dict[str, Any], Any]:
    """The inputs file checked against schemas/inputs.schema.json: (plain data, the positioned doc)."""
    doc = load_yaml(path)
    issues = schema_issues(doc, load_schema("inputs.schema.json"), str(path))
    if issues:
        raise RunbookInvalid(issues)
    return {"approvals": dict(doc.get("approvals") or {}), "confirmations": dict(doc.get("confirmations") or {})}, doc


def _literal_list(value: Any) -> list[str] | None:
    """A `with:` list written out in the runbook (None when it is a template known only at run time)."""
    if not isinstance(value, list) or any(not isinstance(v, str) or "{{" in v for v in value):
        return None
    return [str(v) for v in value]


def check_decisions(book: Runbook, decisions: Decisions, *, inputs: Path | None = None, doc: Any = None,
                    from_file: Iterable[tuple[str, str]] = ()) -> None:
    """Raise (UserInputError, or RunbookInvalid placed in the inputs file) on the first bad decision."""
    steps: dict[str, Step] = {s.id: s for s in (*book.steps, *book.on_failure)}
    in_file = set(from_file)
    issues: list[ValidationIssue] = []

    def refuse(section: str, key: str, message: str, at: tuple[str | int, ...] = ()) -> None:
        if inputs is not None and (section, key) in in_file:
            line, col = position(doc, (section, key, *at), key=not at)
            issues.append(ValidationIssue(str(inputs), line, col, message))
        else:
            flag = "--approve" if section == "approvals" else "--confirm"
            raise UserInputError(f"{flag} {key}: {message}")

    for section, mapping, kind in (("approvals", decisions.approvals, "approval"),
                                   ("confirmations", decisions.confirmations, "checklist")):
        for key, value in mapping.items():
            step = steps.get(key.split("[", 1)[0])
            if step is None:
                refuse(section, key, f"unknown step {key!r} in runbook {book.name} (steps: {', '.join(sorted(steps))})")
                continue
            spec = STEP_KINDS.get(step.uses)
            if spec is None or spec.decided_by != kind:
                article = "an" if step.uses[0] in "aeiou" else "a"
                refuse(section, key, f"step {step.id} is {article} {step.uses} step, which takes no {kind}")
                continue
            if kind == "approval":
                approvers = _literal_list(step.body.with_.get("approvers"))  # approval, compliance.phi_guard
                role = getattr(value, "role", "")
                if approvers is not None and role.casefold() not in {a.casefold() for a in approvers}:
                    refuse(section, key, f"role {role!r} may not decide {step.id}; approvers: {', '.join(approvers)}",
                           ("role",))
            elif isinstance(value, Confirmation):
                items = step.body.with_.get("items")
                known = {str(i.get("id")) for i in items if isinstance(i, dict)} if isinstance(items, list) else None
                unknown = sorted(value.confirmed - known) if known is not None else []
                if unknown:
                    refuse(section, key, f"checklist {step.id} has no item {', '.join(map(repr, unknown))} "
                           f"(items: {', '.join(sorted(known or ()))})")
    if issues:
        raise RunbookInvalid(issues)
