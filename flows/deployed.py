"""One Prefect flow per runbook in runbooks/, for deployments (prefect.yaml entrypoints).

Each flow's signature is built from the runbook's `parameters`, so the Prefect UI shows a typed
form (strings, numbers with their minimums, date pickers, enums as dropdowns, the organization's
locations as a multi-select, defaults filled in) plus `run_key`, `org` and `decisions`. The flows
share the entry flow's body (`golive.flows.engine.entry.run_runbook`), inside a per-location
concurrency slot for runbooks that change locations (`flows/engine/locks.py`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from prefect import Flow, flow
from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from golive.flows.engine.entry import run_runbook, thread_pool
from golive.flows.engine.locks import location_lock
from golive.flows.engine.model import Runbook
from golive.flows.engine.org import load_org
from golive.flows.engine.reconcile import reconcile_flow_body
from golive.flows.engine.validate import LOCATION_PARAMETERS, validate_paths
from golive.tasks.foundation import paths

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list,
                          "object": dict}
# JSON-Schema keywords passed to the form as they are: the UI shows a date picker for `format: date`,
# refuses numbers under `minimum`, and Prefect's server checks them again when a run is created.
_KEYWORDS = ("format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "minLength",
             "maxLength", "minItems", "maxItems", "uniqueItems", "examples")
_DECISIONS_HELP = (
    "Decisions given up front instead of the Resume form; usually left empty. Shape: "
    '{"approvals": {"STEP": {"decision": "approve", "name": "Dana Lee", "role": "CDO", "comment": ""}}, '
    '"confirmations": {"STEP": ["item-id", ...] or "all"}}.'
)
_EXTRA: tuple[tuple[str, Any, Any, str], ...] = (
    ("run_key", str, "", "Resume key: a run with the same key reuses completed steps. Empty: runbook + parameters."),
    ("org", str, "", "Organization file on the worker. Empty: GOLIVE_ORG or the bundled example."),
    ("decisions", dict[str, Any], {}, _DECISIONS_HELP),
)


def _location_ids() -> tuple[str, ...]:
    """The organization's location ids (GOLIVE_ORG or the bundled example) for the location dropdowns."""
    try:
        return tuple(loc.id for loc in load_org(None).locations)
    except Exception:  # an unreadable organization leaves plain text boxes; the run still checks ids
        return ()


def _annotation(name: str, schema: dict[str, Any], locations: tuple[str, ...]) -> Any:
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]  # a dropdown in the UI
    kind = schema.get("type")
    if name in LOCATION_PARAMETERS and locations:
        if kind == "string":
            return Literal[locations]
        if kind == "array":
            return list[Literal[locations]]  # type: ignore[valid-type]  # a multi-select
    if kind == "array" and isinstance(schema.get("items"), dict):
        item = schema["items"]
        item_type = Literal[tuple(item["enum"])] if "enum" in item else _TYPES.get(item.get("type"), Any)
        return list[item_type]  # type: ignore[valid-type]
    return _TYPES.get(kind, Any) if isinstance(kind, str) else Any


def _defaults(book: Runbook) -> dict[str, Any]:
    return {k: v["default"] for k, v in book.parameters.items() if "default" in v}


def _default(schema: dict[str, Any], description: str) -> Any:
    """A pydantic Field as the signature default: Prefect merges its schema keywords into the form."""
    extra = {k: schema[k] for k in _KEYWORDS if k in schema}
    default = schema.get("default", ...)
    return Field(default, description=description, json_schema_extra=extra)


def _run_name(book: Runbook) -> Callable[[], str]:
    """`<runbook> · <locations> · <date>` at submit, instead of Prefect's random two words."""

    def name() -> str:
        from datetime import UTC, datetime

        from prefect.runtime import flow_run as current

        params = current.parameters or {}
        parts = [book.name]
        where = params.get("locations") or params.get("location")
        if where:
            parts.append(", ".join(where) if isinstance(where, list) else str(where))
        parts.append(datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))
        return " · ".join(parts)[:120]

    return name


def _plain(value: Any) -> Any:
    # Missing parameters arrive as the signature default: the Field, not its value.
    return value.default if isinstance(value, FieldInfo) else value


def flow_for(book: Runbook, locations: tuple[str, ...] = ()) -> Flow[..., Any]:
    names = list(book.parameters)

    def body(**kwargs: Any) -> Any:
        given = {k: _plain(v) for k, v in kwargs.items()}
        params = {k: given[k] for k in names if k in given and given[k] is not PydanticUndefined}
        # Runs that change a location take its global concurrency slot first (flows/engine/locks.py):
        # two of them never overlap on one location, on any worker; read-only runs take none.
        with location_lock(book, {**_defaults(book), **params}):
            return run_runbook(str(book.source), params, given.get("run_key") or None, given.get("decisions") or None,
                               given.get("org") or None)

    params, annotations, doc_args = [], {}, []
    for name, schema in book.parameters.items():
        annotation = _annotation(name, schema, locations)
        text = schema.get("description", "")
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                        default=_default(schema, text)))
        annotations[name] = annotation
        doc_args.append(f"    {name}: {text}")
    for name, annotation, default, text in _EXTRA:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                        default=Field(default, description=text)))
        annotations[name] = annotation
        doc_args.append(f"    {name}: {text}")
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__annotations__ = annotations
    body.__doc__ = f"{book.metadata.title or book.name}\n\nArgs:\n" + "\n".join(doc_args)
    body.__name__ = body.__qualname__ = book.name.replace("-", "_")
    decorate = flow(name=book.name, flow_run_name=_run_name(book), validate_parameters=False, log_prints=False,
                    task_runner=thread_pool(), description=book.metadata.description or book.metadata.title)
    return decorate(body)


def _runbook_dirs() -> list[Path]:
    """runbooks/, plus the folders in `GOLIVE_EXTRA_RUNBOOKS` (os.pathsep-separated): a group's own runbooks."""
    extra = [Path(p) for p in os.environ.get("GOLIVE_EXTRA_RUNBOOKS", "").split(os.pathsep) if p]
    return [paths.RUNBOOKS, *extra]


def _all() -> dict[str, Flow[..., Any]]:
    books, _issues = validate_paths(_runbook_dirs())  # invalid runbooks get no flow; `golive validate` says why
    locations = _location_ids()
    return {b.name.replace("-", "_"): flow_for(b, locations) for b in books}


FLOWS = _all()
globals().update(FLOWS)


@flow(name="golive-reconcile", log_prints=False)
def golive_reconcile(rerun: bool = True, stale_s: float = 120.0, worker_timeout_s: float = 90.0) -> dict[str, Any]:
    """Bring the store's runs in line with Prefect's; recover runs of dead workers (`golive runs reconcile`).

    Args:
        rerun: Start runs crashed here again from their deployment, with the same run key.
        stale_s: Seconds a Pending or Running state must be old to count as stuck.
        worker_timeout_s: Seconds without a worker heartbeat that make the worker dead.
    """
    return reconcile_flow_body(rerun=rerun, stale_s=stale_s, worker_timeout_s=worker_timeout_s)
