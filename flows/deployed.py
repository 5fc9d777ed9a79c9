"""One Prefect flow per runbook in runbooks/, for deployments (prefect.yaml entrypoints).

Each flow's signature is built from the runbook's `parameters`, so the Prefect UI shows a typed
form (strings, numbers, booleans, enums as dropdowns, defaults filled in) plus `run_key`, `org`
and `decisions`. The flows share the entry flow's body (`golive.flows.engine.entry.run_runbook`),
inside a per-location concurrency slot for runbooks that change locations (`flows/engine/locks.py`).
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from prefect import Flow, flow

from golive.flows.engine.entry import run_runbook, thread_pool
from golive.flows.engine.locks import location_lock
from golive.flows.engine.model import Runbook
from golive.flows.engine.validate import validate_paths
from golive.tasks.foundation import paths

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list,
                          "object": dict}
_EXTRA = (
    ("run_key", str | None, None, "Resume key: a run with the same key reuses completed steps."),
    ("org", str | None, None, "Organization file (default: GOLIVE_ORG or the bundled example)."),
    ("decisions", dict[str, Any] | None, None, "Approvals/confirmations given up front (else the run pauses for a form)."),
)


def _annotation(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]  # a dropdown in the UI
    kind = schema.get("type")
    return _TYPES.get(kind, Any) if isinstance(kind, str) else Any


def _defaults(book: Runbook) -> dict[str, Any]:
    return {k: v["default"] for k, v in book.parameters.items() if "default" in v}


def flow_for(book: Runbook) -> Flow[..., Any]:
    names = list(book.parameters)

    def body(**kwargs: Any) -> Any:
        params = {k: kwargs[k] for k in names if k in kwargs}
        # Runs that change a location take its global concurrency slot first (flows/engine/locks.py):
        # two of them never overlap on one location, on any worker; read-only runs take none.
        with location_lock(book, {**_defaults(book), **params}):
            return run_runbook(str(book.source), params, kwargs.get("run_key"), kwargs.get("decisions"),
                               kwargs.get("org"))

    params, annotations, doc_args = [], {}, []
    for name, schema in book.parameters.items():
        default = schema.get("default", inspect.Parameter.empty)
        annotation = _annotation(schema)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
        annotations[name] = annotation
        doc_args.append(f"    {name}: {schema.get('description', '')}")
    for name, annotation, default, text in _EXTRA:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
        annotations[name] = annotation
        doc_args.append(f"    {name}: {text}")
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__annotations__ = annotations
    body.__doc__ = f"{book.metadata.title or book.name}\n\nArgs:\n" + "\n".join(doc_args)
    body.__name__ = body.__qualname__ = book.name.replace("-", "_")
    decorate = flow(name=book.name, flow_run_name=book.name, validate_parameters=False, log_prints=False,
                    task_runner=thread_pool(), description=book.metadata.description or book.metadata.title)
    return decorate(body)


def _all() -> dict[str, Flow[..., Any]]:
    books, _issues = validate_paths([paths.RUNBOOKS])  # invalid runbooks get no flow; `golive validate` says why
    return {b.name.replace("-", "_"): flow_for(b) for b in books}


FLOWS = _all()
globals().update(FLOWS)
