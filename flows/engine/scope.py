"""The values expressions see, fan-out item labels and the input hash used for resume."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]+")


def jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of `value` (dataclasses, enums, dates, paths, tuples, sets)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def item_label(item: Any, index: int) -> str:
    """Short label of a fan-out element for `<id>[<label>]`: its `id` when it has one."""
    ident = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    if ident is None and isinstance(item, str | int | float):
        ident = item
    if ident is None:
        return str(index)
    label = _LABEL_UNSAFE.sub("-", str(ident)).strip("-")
    return label[:60] or str(index)


def input_hash(uses: str, params: Any, item: Any, org_digest: str = "") -> str:
    payload = json.dumps({"uses": uses, "with": jsonable(params), "item": jsonable(item), "org": org_digest},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def default_run_key(runbook: str, params: Mapping[str, Any]) -> str:
    """`<runbook>-<first 12 hex of the parameters' hash>`: same runbook and parameters, same key."""
    digest = hashlib.sha256(json.dumps(jsonable(params), sort_keys=True).encode()).hexdigest()[:12]
    return f"{runbook}-{digest}"


def slot_run_key(runbook: str, params: Mapping[str, Any], slot: datetime) -> str:
    """A deployment run's key: the parameters' key plus its schedule slot (`YYYYMMDDTHHMMSSZ`, UTC).

    `slot` is the flow run's expected start time: the schedule's slot for a scheduled run, the
    submit time for a run started from the UI or the API. Prefect sets it once, so a retry of the
    same flow run gets the same key (and reuses its completed steps), while the same parameters
    on another day, or submitted again later, are another run. Two submits within one second are
    one run (a double click).
    """
    return f"{default_run_key(runbook, params)}-{slot.astimezone(UTC):%Y%m%dT%H%M%SZ}"

