"""Validated runbooks and loaded organizations, kept per process while their files are unchanged.

`golive run` validates before Prefect starts and the flow validates again (a deployment run has
no CLI in front of it); the second time costs nothing when the file has not changed since.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from golive.flows.engine.model import Runbook

_LOCK = threading.Lock()
_RUNBOOKS: dict[tuple[str, int, int], Runbook] = {}
_ORGS: dict[tuple[str, int, int], Any] = {}


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def runbook(path: Path) -> Runbook:
    """`validate_file(path)`, reused while the file's mtime and size are unchanged."""
    from golive.flows.engine.validate import validate_file

    key = _stamp(path)
    with _LOCK:
        hit = _RUNBOOKS.get(key)
    if hit is None:
        hit = validate_file(path)  # RunbookInvalid is never cached
        with _LOCK:
            _RUNBOOKS[key] = hit
    return hit


def organization(path: Path) -> Any:
    """`load_organization(path)`, reused while the file's mtime and size are unchanged."""
    from golive.tasks.planning.organization import load_organization

    key = _stamp(path)
    with _LOCK:
        hit = _ORGS.get(key)
    if hit is None:
        hit = load_organization(path)
        with _LOCK:
            _ORGS[key] = hit
    return hit
