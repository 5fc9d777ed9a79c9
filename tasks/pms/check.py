"""`check_location`: the whole PMS battery for one location, ad hoc (CLI `golive pms check`).

Before the checks run, the battery's requests are estimated under the location's pacing (Open
Dental paces one request per 5 s by default, so a full battery takes minutes); each check is
announced with its own estimate as it starts. An unreachable PMS ends the battery at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from golive.tasks.pms import battery, cdt
from golive.tasks.pms.battery import CheckResult, Status
from golive.tasks.pms.config import connect, settings_for
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.pacing import describe, duration
from golive.tasks.pms.protocol import PmsConfigError, PmsConnector, PmsError, PmsUnreachable
from golive.tasks.pms.pseudonym import pseudonym
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.writeback import MARKER_PREFIX, WritebackKey
from golive.tasks.store.intents import intent_key

log = logging.getLogger(__name__)
ALL_CHECKS = ("version", "auth", "patient_read", "writeback", "code_mapping", "nondestructive",
              "imaging_passthrough", "attachment")
NEEDS_PATIENT = frozenset({"patient_read", "writeback", "imaging_passthrough", "attachment"})


@dataclass(frozen=True)
class Planned:
    """One check's estimated requests and their wall time under the location's pacing."""

    check: str
    requests: int
    seconds: float

    def describe(self) -> str:
        return f"about {self.requests} request{'s' if self.requests != 1 else ''}, {duration(self.seconds)}"


def plan_battery(conn: Any, checks: Sequence[str], *, test_patient: str | None, sample: int = 10,
                 code_pages: int = 10) -> list[Planned]:
    """Estimated requests per check (Open Dental only; the ODBC routes are not paced). Reads the
    version first: one request, which every check needs anyway. `code_pages`: the procedure-code
    list in pages of 100 (real code lists run to about 1,000 codes)."""
    if not isinstance(conn, OpenDentalConnector):
        return [Planned(c, 0, 0.0) for c in checks]
    out = []
    for name in checks:
        n = 0 if name in NEEDS_PATIENT and not test_patient else conn.battery_requests(
            name, sample=sample, code_pages=code_pages)
        out.append(Planned(name, n, conn.pacer.estimate_s(n)))
    return out


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
    run_key: str = "",
    minimum_version: str | None = None,
    custom_mappings: Mapping[str, str] | None = None,
    emitted_codes: Sequence[str] | None = None,
    sample: int = 10,
    patient_ids: Sequence[str] = (),
    allow_empty: Sequence[str] = (),
    image_category: str = "",
    reported_version: str | None = None,
    on_start: Callable[[int, str], None] | None = None,
    on_done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """The chosen checks in order. `PmsUnreachable` is not a result: it propagates and ends the battery."""
    pseudo = lambda pid: pseudonym(conn.system, location, pid)  # noqa: E731
    tp = str(test_patient)
    runners: dict[str, Callable[[], CheckResult]] = {
        "version": lambda: battery.version_check(conn, minimum_version, reported_version),
        "auth": lambda: battery.auth_check(conn),
        "patient_read": lambda: battery.patient_read_check(conn, tp, pseudo, allow_empty),
        "writeback": lambda: battery.writeback_check(
            conn, store, WritebackKey(runbook, location, step, pseudo(tp), plan_version, run_key), tp),
        "code_mapping": lambda: battery.code_mapping_check(conn, emitted_codes or cdt.PLATFORM_CODES,
                                                           custom_mappings),
        "nondestructive": lambda: battery.nondestructive_check(conn, pseudo, sample, patient_ids,
                                                               [tp] if test_patient else []),
        "imaging_passthrough": lambda: battery.imaging_passthrough_check(conn, tp, pseudo),
        "attachment": lambda: _attachment(conn, store, tp, pseudo, location, runbook, step, plan_version, run_key,
                                          image_category),
    }
    unknown = [c for c in checks if c not in runners]
    if unknown:
        raise PmsConfigError(f"unknown check {unknown[0]!r}; known: {', '.join(ALL_CHECKS)}")
    out: list[CheckResult] = []
    for index, name in enumerate(checks):
        if on_start:
            on_start(index, name)
        if name in NEEDS_PATIENT and not test_patient:
            result = CheckResult(name, Status.NOT_VERIFIED, "no designated test patient configured")
        else:
            result = runners[name]()
        out.append(result)
        if on_done:
            on_done(result)
    return out


@dataclass(frozen=True)
class Progress:
    """What `golive pms check` prints while the battery runs (each hook optional)."""

    planned: Callable[[dict[str, Any], list[Planned]], None] | None = None
    started: Callable[[int, int, Planned], None] | None = None
    done: Callable[[CheckResult], None] | None = None


def check_location(
    org: Any,
    location_id: str,
    store: Any,
    *,
    test_patient: str | None = None,
    connection: Mapping[str, Any] | None = None,
    checks: Sequence[str] = ALL_CHECKS,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the battery for one location. Raises `UserInputError` (CLI exit 2) for an unknown location,
    `PmsConfigError` for unusable settings and `PmsUnreachable` when the PMS cannot be reached; a
    failing check is a result, not an exception."""
    progress = progress or Progress()
    location = org.location(location_id)
    settings = settings_for(location, connection)
    conn = connect(settings, retry=retry)
    try:
        head: dict[str, Any] = {
            "location": location_id, "pms": settings.product,
            "route": "rest-api" if settings.product == "opendental"
            else "odbc-views (modelled on third-party documentation)",
            "pacing": describe(settings.interval_s) if settings.product == "opendental"
            else "not paced (database connection)",
        }
        try:
            head["version"] = conn.version().text
            plan = plan_battery(conn, checks, test_patient=test_patient)
        except PmsUnreachable:
            raise
        except PmsError as exc:  # the version check will say what went wrong; no estimate without it
            log.info("no estimate: %s", type(exc).__name__)
            plan = [Planned(c, 0, 0.0) for c in checks]
        head["estimate"] = {"requests": sum(p.requests for p in plan), "seconds": sum(p.seconds for p in plan)}
        if progress.planned:
            progress.planned(head, plan)

        def started(index: int, name: str) -> None:
            if progress.started:
                progress.started(index, len(checks), plan[index])

        results = run_checks(conn, location=location_id, store=store, test_patient=test_patient, checks=checks,
                             reported_version=settings.reported_version, on_start=started, on_done=progress.done)
        head["requests_sent"] = getattr(conn, "requests_sent", 0)
    finally:
        conn.close()
    return head | {"passed": all(r.passed for r in results), "checks": [r.to_dict() for r in results]}


def _attachment(conn: PmsConnector, store: Any, tp: str, pseudo: Callable[[str], str], location: str, runbook: str,
                step: str, plan_version: str, run_key: str, category: str) -> CheckResult:
    """Within a run the upload is an intent keyed by the run key (a resume finds its own image by
    the marker); outside one (`golive pms check`) each call is a new check with the old marker."""
    if not run_key:
        marker = WritebackKey(runbook, location, step + ":attachment", pseudo(tp), plan_version).marker
        return battery.attachment_check(conn, tp, pseudo, marker, category)
    key = intent_key(run_key, step, "pms.attachment", runbook, location, pseudo(tp), plan_version)
    return battery.attachment_check(conn, tp, pseudo, MARKER_PREFIX + key[:32], category, store=store, intent=key,
                                    run_key=run_key, step=step)
