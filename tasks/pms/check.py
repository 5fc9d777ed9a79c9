"""`check_location`: the whole PMS battery for one location, ad hoc (CLI `golive pms check`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from golive.tasks.pms import battery, cdt
from golive.tasks.pms.battery import CheckResult, Status
from golive.tasks.pms.config import connect, settings_for
from golive.tasks.pms.protocol import PmsConfigError
from golive.tasks.pms.pseudonym import pseudonym
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.writeback import WritebackKey

log = logging.getLogger(__name__)
ALL_CHECKS = ("version", "auth", "patient_read", "writeback", "code_mapping", "nondestructive",
              "imaging_passthrough", "attachment")


def run_checks(
    conn: Any,
    *,
    location: str,
    store: Any,
    test_patient: str | None,
    checks: Sequence[str] = ALL_CHECKS,
    runbook: str = "pms-check",
    step: str = "pms-check",
    plan_version: str = "1",
    minimum_version: str | None = None,
    custom_mappings: Mapping[str, str] | None = None,
    emitted_codes: Sequence[str] | None = None,
    sample: int = 10,
    patient_ids: Sequence[str] = (),
    allow_empty: Sequence[str] = (),
    image_category: str = "",
    reported_version: str | None = None,
) -> list[CheckResult]:
    pseudo = lambda pid: pseudonym(conn.system, location, pid)  # noqa: E731
    needs_patient = {"patient_read", "writeback", "imaging_passthrough", "attachment"}
    out: list[CheckResult] = []
    for name in checks:
        if name in needs_patient and not test_patient:
            out.append(CheckResult(name, Status.NOT_VERIFIED, "no designated test patient configured"))
            continue
        tp = str(test_patient)
        if name == "version":
            out.append(battery.version_check(conn, minimum_version, reported_version))
        elif name == "auth":
            out.append(battery.auth_check(conn))
        elif name == "patient_read":
            out.append(battery.patient_read_check(conn, tp, pseudo, allow_empty))
        elif name == "writeback":
            key = WritebackKey(runbook, location, step, pseudo(tp), plan_version)
            out.append(battery.writeback_check(conn, store, key, tp))
        elif name == "code_mapping":
            out.append(battery.code_mapping_check(conn, emitted_codes or cdt.PLATFORM_CODES, custom_mappings))
        elif name == "nondestructive":
            out.append(battery.nondestructive_check(conn, pseudo, sample, patient_ids,
                                                           [str(test_patient)] if test_patient else []))
        elif name == "imaging_passthrough":
            out.append(battery.imaging_passthrough_check(conn, tp, pseudo))
        elif name == "attachment":
            marker = WritebackKey(runbook, location, step + ":attachment", pseudo(tp), plan_version).marker
            out.append(battery.attachment_check(conn, tp, pseudo, marker, image_category))
        else:
            raise PmsConfigError(f"unknown check {name!r}; known: {', '.join(ALL_CHECKS)}")
    return out


def check_location(
    org: Any,
    location_id: str,
    store: Any,
    *,
    test_patient: str | None = None,
    connection: Mapping[str, Any] | None = None,
    checks: Sequence[str] = ALL_CHECKS,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Run the battery for one location. Raises `UserInputError` (CLI exit 2) for an unknown location
    and `PmsConfigError` for unusable settings; a failing check is a result, not an exception."""
    location = org.location(location_id)
    settings = settings_for(location, connection)
    conn = connect(settings, retry=retry)
    try:
        results = run_checks(conn, location=location_id, store=store, test_patient=test_patient, checks=checks,
                             reported_version=settings.reported_version)
    finally:
        conn.close()
    return {
        "location": location_id,
        "pms": settings.product,
        "route": "rest-api" if settings.product == "opendental" else "odbc-views (modelled on third-party documentation)",
        "passed": all(r.passed for r in results),
        "checks": [r.to_dict() for r in results],
    }
