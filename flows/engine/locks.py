"""One run at a time changes a location: a Prefect global concurrency limit per location.

Deployment runs on a shared installation may land on any worker. Two runs that change the same
location (two rollbacks, a go-live and a rollback) must not overlap, while runs that only read
(drift checks, gates, reminders) may. A runbook changes a location when any of its steps is of a
kind registered with `side_effects` other than the record-only kinds (notifications, approvals,
checklists, verdicts); its locations are its `location` / `locations` parameters.

The slots are held while the run's process runs. A deployment run waiting for a person is
suspended (flows/engine/inputs.py): its process exits and its slots come free; on Resume it takes
them again before its first step (waiting, if another run holds one meanwhile).

Each location gets a global concurrency limit `golive-location-<id>` of 1 slot, created on first
use. All of a run's slots are taken in one request (all or none, so two runs holding one location
each never deadlock) and held under a lease the client renews: a worker killed mid-run stops
renewing, and the server frees its slots when the lease expires.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from golive.flows.engine.model import Runbook
from golive.tasks.registry import STEP_KINDS

log = logging.getLogger(__name__)

PREFIX = "golive-location-"
LOCATION_PARAMETERS = ("location", "locations")
LEASE_S = 300.0  # renewed while the run lives; how long a dead worker's slots outlive it


# Kinds whose side effects are messages or records about the run itself (a notification, a
# recorded approval or checklist item, a verdict, a probe sample), not a change to a location.
RECORDS_ONLY = frozenset({"notify", "approval", "checklist", "gate", "deadline.check", "probe.http",
                          "compliance.evidence", "compliance.phi_guard", "compliance.vendor_request",
                          "program.override", "register.update"})


def changes_locations(book: Runbook) -> bool:
    """True when any step (or failure handler) is of a kind that changes a location."""
    for step in (*book.steps, *book.on_failure):
        spec = STEP_KINDS.get(step.body.uses)
        if spec is None:  # an unknown (test-registered) kind counts as changing
            return True
        if spec.side_effects and spec.name not in RECORDS_ONLY:
            return True
    return False


def lock_names(book: Runbook, params: Mapping[str, Any]) -> list[str]:
    """The concurrency limit names this run must hold: one per location it changes (sorted)."""
    if not changes_locations(book):
        return []
    found: set[str] = set()
    for name in LOCATION_PARAMETERS:
        value = params.get(name)
        items = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []
        found.update(str(v) for v in items if isinstance(v, str | int) and str(v))
    return [f"{PREFIX}{loc}" for loc in sorted(found)]


def ensure_limits(names: list[str]) -> None:
    """Create the 1-slot limits that do not exist yet (two workers racing here both succeed)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        for name in names:
            try:
                client.read_global_concurrency_limit_by_name(name)
                continue
            except ObjectNotFound:
                pass
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
                log.info("created concurrency limit %s (1 slot)", name)
            except ObjectAlreadyExists:
                pass


@contextmanager
def location_lock(book: Runbook, params: Mapping[str, Any]) -> Iterator[list[str]]:
    """Hold every location slot this run needs for the body (waits while another run holds one)."""
    names = lock_names(book, params)
    if not names:
        yield []
        return
    from prefect.concurrency.sync import concurrency

    ensure_limits(names)
    log.info("waiting for %s", ", ".join(names))
    with concurrency(names, occupy=1, strict=True, lease_duration=LEASE_S):
        yield names
