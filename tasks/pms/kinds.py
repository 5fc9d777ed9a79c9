"""Step kinds for the playbook's PMS battery: one kind per check, so a runbook shows each on its own.

Every kind takes `location` (an id from the organization file), finds that location's PMS there
(`Location.pms`), may take a `connection` override (e.g. a local simulator), runs one check and
returns its PHI-free evidence. A check that fails, is not supported by the route, or could not be
verified (also "not verified on version X (needs Y)") fails the step with that plain statement:
neither is ever a pass. An unreachable PMS fails the step at once, saying so.
"""

from __future__ import annotations

import re
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.kind import RunFn, StepKind
from golive.tasks.pms.check import run_checks
from golive.tasks.pms.config import connect, settings_for
from golive.tasks.pms.protocol import PmsError


class PmsCheckFailed(StepFailed):
    """A PMS battery check failed, was not supported by the version/route, or could not be verified."""


def _runner(check: str) -> RunFn:
    def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
        location_id = str(params["location"])
        if ctx.org is None:
            raise PmsCheckFailed("no organization is loaded; the PMS checks need the location's PMS from it")
        try:
            location = ctx.org.location(location_id)
            settings = settings_for(location, params.get("connection"))
            conn = connect(settings)
        except (PmsError, UserInputError) as exc:
            raise PmsCheckFailed(f"{check} at {location_id}: {exc}") from None
        try:
            result = run_checks(
                conn, location=location_id, store=ctx.store, test_patient=params.get("test_patient"),
                checks=[check], runbook=ctx.runbook, step=ctx.step_key,
                plan_version=str(params.get("plan_version", "1")), run_key=ctx.run_key,
                minimum_version=params.get("minimum_version"),
                custom_mappings=params.get("custom_mappings"), emitted_codes=params.get("emitted_codes"),
                sample=int(params.get("sample", 10)), patient_ids=[str(p) for p in params.get("patients", [])],
                allow_empty=params.get("allow_empty", []), image_category=str(params.get("category", "")),
                reported_version=settings.reported_version,
            )[0]
        except PmsError as exc:  # unreachable: no result to record, the step fails saying why
            raise PmsCheckFailed(f"{check} at {location_id}: {exc}") from None
        finally:
            conn.close()
        row = result.to_dict() | {"location": location_id, "pms": settings.product}
        key = re.sub(r"[^a-z0-9-]+", "-", f"pms-{check}-{location_id}".lower()).strip("-")
        ctx.artifacts.table(key, [{"check": check, "location": location_id, "pms": settings.product,
                                   "status": result.status.value, "summary": result.summary}],
                            description=f"PMS {check} check at {location_id}")
        ctx.audit("pms.check", {"check": check, "location": location_id, "pms": settings.product,
                                "status": result.status.value})
        if not result.passed:
            label = "" if result.status.value == "not_supported" else f"{result.status.value}: "
            raise PmsCheckFailed(f"{check} at {location_id} ({settings.product}): {label}{result.summary}")
        return row

    return run


# step kind → the battery check it runs (summaries and flags: golive.tasks.registry)
_CHECKS: tuple[tuple[str, str], ...] = (
    ("pms.version_check", "version"),
    ("pms.auth_check", "auth"),
    ("pms.patient_read", "patient_read"),
    ("pms.writeback", "writeback"),
    ("pms.code_mapping", "code_mapping"),
    ("pms.nondestructive", "nondestructive"),
    ("pms.imaging_passthrough", "imaging_passthrough"),
    ("pms.attachment", "attachment"),
)

KINDS: tuple[StepKind, ...] = tuple(StepKind(name=name, run=_runner(check)) for name, check in _CHECKS)
