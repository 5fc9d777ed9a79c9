"""Compliance step kinds: thin wrappers over the plain modules beside them.

Evidence (`compliance.evidence`), the automated checks (`compliance.tls_check`,
`compliance.audit_export`, `compliance.deletion_test`, `compliance.access_check`,
`compliance.config_standards`), where things stand (`compliance.status`, `compliance.reminders`),
the PHI guard (`compliance.phi_guard`), vendor-side PMS steps (`compliance.credential_handover`,
`compliance.vendor_request`) and the migration's sample validation (`compliance.migration_check`).
Each check keeps its report as evidence, so the HIPAA status and the PHI guard read one record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from golive.tasks.compliance import evidence, migration
from golive.tasks.compliance.access import MATRIX_ROLES, AccessMatrix, check_access
from golive.tasks.compliance.audit_export import export_audit
from golive.tasks.compliance.deletion import DeletionResult, PlatformClient, run_deletion
from golive.tasks.compliance.directory import Directory, Vocabulary, read_csv
from golive.tasks.compliance.endpoint import host_port
from golive.tasks.compliance.manifest import load_manifest
from golive.tasks.compliance.requirements import Check, requirement_for
from golive.tasks.compliance.scim import read_directory
from golive.tasks.compliance.standards import check_standards
from golive.tasks.compliance.status import NOTICE_DAYS, OVERRIDE_EVENT, compliance_status, reminders
from golive.tasks.compliance.tls import check_tls
from golive.tasks.context import Approval, InputRequest, StepContext
from golive.tasks.foundation import crash, paths
from golive.tasks.foundation.durations import parse_duration
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.foundation.secrets import check_reference, resolve
from golive.tasks.kind import OverrideWording, StepKind, accept_override
from golive.tasks.store import Store, intents
from golive.tasks.store.intents import IntentState, intent_key


class ComplianceCheckFailed(StepFailed):
    """An automated compliance check found a problem (or could not verify what it must)."""


class PhiBlocked(StepFailed):
    """PHI may not flow to the vendor for this location: prerequisites are incomplete and no override was given."""


def _store(ctx: StepContext) -> Store:
    if ctx.store is None:
        raise UserInputError(f"step {ctx.step_key} needs the store")
    store: Store = ctx.store
    return store


def _org(ctx: StepContext) -> Any:
    if ctx.org is None:
        raise UserInputError(f"step {ctx.step_key} needs the organization file")
    return ctx.org


def _now(params: dict[str, Any]) -> datetime:
    """The step's clock: `as_of` (an ISO date or time, for rehearsals and tests) or the current time."""
    text = str(params.get("as_of") or "")
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(f"as_of: not an ISO 8601 date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(ctx: StepContext, params: dict[str, Any]) -> date:
    """The day a status is "as of": the step's `as_of`, else the run's day on the program's timeline
    (the checks themselves keep the real clock: a certificate is valid now or not)."""
    return _now(params).date() if params.get("as_of") else ctx.today()


def _locations(ctx: StepContext, params: dict[str, Any]) -> list[str]:
    org = _org(ctx)
    wanted = params.get("locations") or [loc.id for loc in org.locations]
    for loc in wanted:
        org.location(loc)  # unknown ids are the user's mistake (with a did-you-mean)
    return [str(loc) for loc in wanted]


def _fail_if(ctx: StepContext, params: dict[str, Any], failed: bool, message: str) -> None:
    if failed and params.get("fail_on_findings", True):
        raise ComplianceCheckFailed(message)
    if failed:
        ctx.logger.warning("%s", message)


# -- evidence ---------------------------------------------------------------------------------

def run_evidence(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    items = load_manifest(paths.data_file(str(params["manifest"])))
    recorded = []
    for item in items:
        rec = evidence.record_document(store, subject=item.subject, file=item.file, supplied_by=item.supplied_by,
                                       role=item.role, supplied_on=item.supplied_on, expires_on=item.expires_on,
                                       location=item.location, note=item.note, run_id=ctx.run_id)
        recorded.append({"requirement": rec.subject, "location": rec.location or None, "file": rec.file_name,
                         "sha256": rec.sha256, "supplied_by": rec.supplied_by, "role": rec.supplied_role,
                         "supplied_on": rec.supplied_on.isoformat(),
                         "expires_on": rec.expires_on.isoformat() if rec.expires_on else None})
    ctx.artifacts.table("compliance-evidence", recorded, description=f"{len(recorded)} document(s) on record")
    return {"recorded": recorded, "count": len(recorded)}


# -- automated checks ---------------------------------------------------------------------------

def run_tls(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    host, port = host_port(str(params["url"]))
    ca_file = str(paths.data_file(params["ca_file"])) if params.get("ca_file") else None
    now = _now(params)
    report = check_tls(host, port, server_name=params.get("server_name") or None, ca_file=ca_file, now=now,
                       warn_days=int(params.get("warn_days", 30)), timeout_s=parse_duration(params.get("timeout", "10s")))
    result = report.to_dict()
    req = requirement_for(Check.TLS)
    evidence.record_check(store, subject=req.id, passed=report.passed, report=result, run_id=ctx.run_id,
                          on=now.date(), summary={"endpoint": result["endpoint"], "protocol": report.protocol})
    ctx.artifacts.table("tls-check", result["findings"], description=f"TLS of {result['endpoint']}")
    _fail_if(ctx, params, not report.passed, f"TLS of {result['endpoint']}: " + "; ".join(
        f"{f['check']} {f['verdict']}: {f['detail']}" for f in result["findings"] if f["verdict"] in ("fail", "not_verified")))
    return result


def run_audit_export(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    now = _now(params)
    end = date.fromisoformat(str(params["end"])) if params.get("end") else now.date()
    start = date.fromisoformat(str(params["start"])) if params.get("start") else end - timedelta(days=int(params.get("days", 30)))
    target = ctx.out_dir / ctx.run_key / f"audit-export-{start.isoformat()}-{end.isoformat()}.jsonl"
    export = export_audit(store, start, end, target)
    result = export.to_dict()
    req = requirement_for(Check.AUDIT_EXPORT)
    evidence.record_check(store, subject=req.id, passed=export.passed, report=result, run_id=ctx.run_id,
                          on=now.date(), summary={"entries": export.entries, "sha256": export.sha256})
    problem = "; ".join(export.problems) if export.verified else f"no audit entries between {start} and {end}: not verified"
    _fail_if(ctx, params, not export.passed, f"audit export {start}..{end}: {problem}")
    return result


def run_deletion_test(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    token = resolve(check_reference(params["token"], "token"), "platform API token")
    ca_file = str(paths.data_file(params["ca_file"])) if params.get("ca_file") else None
    # Within a run the erasure request is an intent keyed by the run key (tasks/store/intents.py):
    # its Idempotency-Key is the intent's, so the platform de-duplicates a resumed request, and a
    # resume after the outcome was recorded reports it without calling the platform.
    intent = None
    if ctx.run_key:
        key = intent_key(ctx.run_key, ctx.step_key, "compliance.deletion_test", str(params["base_url"]))
        intent = intents.begin(store, key, run_key=ctx.run_key, step_key=ctx.step_key,
                               kind="compliance.deletion_test")
    if intent is not None and intent.state is IntentState.DONE:
        result = DeletionResult.from_dict(intent.evidence["out"])
    else:
        crash.point("compliance.deletion_test", "intent", ctx.step_key)
        with PlatformClient(str(params["base_url"]), token, ca_file=ca_file) as client:
            result = run_deletion(client, str(params["test_patient"]),
                                  max_wait_s=parse_duration(params.get("max_wait", "2m")),
                                  poll_s=parse_duration(params.get("poll", "1s")),
                                  key=intent.short if intent else None, resumed=bool(intent and intent.resumed))
        if intent is not None and result.passed:  # a failed test stays `intended`: a retry re-checks the same request
            intents.advance(store, intent.key, IntentState.DONE, {"out": result.to_dict()})
    out = result.to_dict()
    req = requirement_for(Check.DELETION)
    evidence.record_check(store, subject=req.id, passed=result.passed, report=out, run_id=ctx.run_id,
                          summary={"request_id": result.request_id})
    ctx.audit("compliance.deletion_test", {"step": ctx.step_key, "passed": result.passed,
                                           "request_id": result.request_id, "remaining": list(result.remaining)})
    _fail_if(ctx, params, not result.passed, "deletion on request: " + "; ".join(
        s.detail for s in result.steps if not s.ok))
    return out


def _directory(ctx: StepContext, params: dict[str, Any]) -> Directory:
    org = _org(ctx)
    vocabulary = Vocabulary(MATRIX_ROLES, [(loc.id, loc.name) for loc in org.locations])
    source = params["source"]
    if source.get("csv"):
        return read_csv(paths.data_file(str(source["csv"])), vocabulary)
    token = resolve(check_reference(source["token"], "source.token"), "SCIM token")
    return read_directory(str(source["base_url"]), token, vocabulary, page_size=int(source.get("page_size", 100)))


def _leavers(params: dict[str, Any]) -> set[str]:
    """userNames or employee numbers from an HR leavers file (one per line, `#` comments)."""
    if not params.get("leavers"):
        return set()
    path = paths.data_file(str(params["leavers"]))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such leavers file") from None
    return {ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()}


def run_access_check(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    org = _org(ctx)
    matrix = AccessMatrix.from_organization(org)
    locations = _locations(ctx, params)
    report = check_access(_directory(ctx, params), matrix, locations=locations, leavers=_leavers(params))
    today = _now(params).date()
    for loc in report.locations:
        for requirement in ("rbac", "mfa"):
            evidence.record_check(store, subject=requirement, location=loc.location, passed=loc.passed(requirement),
                                  report={"source": report.source, "matrix_basis": report.basis, **loc.summary(),
                                          "findings": [f.to_dict() for f in loc.findings
                                                       if f.kind.requirement == requirement]},
                                  run_id=ctx.run_id, on=today, summary=loc.summary())
    result = report.to_dict()
    ctx.artifacts.table("access-findings", result["findings"] or [{"kind": "none", "user": "", "location": "",
                                                                    "detail": "no violation"}],
                        description=f"{report.violations} access violation(s) in {report.accounts} account(s)")
    ctx.audit("compliance.access_check", {"step": ctx.step_key, "accounts": report.accounts,
                                          "violations": report.violations, "counts": report.counts(),
                                          "not_verified": list(report.not_verified)})
    problems = []
    if report.violations:
        problems.append(f"{report.violations} access violation(s): " + "; ".join(
            f"{f.user_name} ({f.location or 'organization'}): {f.kind.value} — {f.detail}" for f in report.findings[:10]))
    if report.not_verified:
        problems.append(f"not verified (no account in the directory): {', '.join(report.not_verified)}")
    _fail_if(ctx, params, bool(problems), "; ".join(problems))
    return result


def run_config_standards(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    org = _org(ctx)
    exports = paths.data_file(str(params["exports"])) if params.get("exports") else None
    if exports is not None and not exports.is_dir():
        raise UserInputError(f"{exports}: no such folder of configuration exports")
    locations = _locations(ctx, params) if exports is not None or params.get("locations") else []
    report = check_standards(org.standards, exports=exports, locations=locations)
    today = _now(params).date()
    for loc in report.locations:
        evidence.record_check(store, subject="configuration-standards", location=loc.location,
                              passed=loc.state.value == "conforms", report=loc.to_dict(), run_id=ctx.run_id, on=today,
                              summary={"state": loc.state.value, "drift": len(loc.drift),
                                       "settings": [d.setting for d in loc.drift]})
    result = report.to_dict()
    rows = [{"location": loc.location, "state": loc.state.value, "setting": d.setting, "detail": d.detail}
            for loc in report.locations for d in loc.drift] + [
        {"location": "(organization)", "state": "deviation", "setting": d.setting, "detail": d.detail}
        for d in report.organization]
    if rows:
        ctx.artifacts.table("configuration-drift", rows, description=f"{len(rows)} drift(s) from the standards")
    problems = [d.detail for d in report.organization]
    problems += [f"{loc.location}: {d.detail}" for loc in report.locations for d in loc.drift]
    problems += [f"{loc.location}: {loc.state.value.replace('_', ' ')} ({loc.note})" for loc in report.locations
                 if loc.state.value in ("invalid", "not_verified")]
    _fail_if(ctx, params, bool(problems), "configuration standards: " + "; ".join(problems))
    return result


# -- where things stand ----------------------------------------------------------------------------

def run_status(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    status = compliance_status(_store(ctx), _org(ctx), today=_day(ctx, params), location=params.get("location") or None,
                               notice_days=int(params.get("notice_days", NOTICE_DAYS)))
    out = status.to_dict()
    ctx.artifacts.table("hipaa-checklist", [{"requirement": r["requirement"], "owner": r["owner"], "state": r["state"],
                                              "missing": "; ".join(r["missing"])} for r in out["requirements"]],
                        description=f"HIPAA checklist for {status.location or status.organization}")
    return out


def run_reminders(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    due = reminders(evidence.history(_store(ctx)), today=_day(ctx, params),
                    notice_days=int(params.get("notice_days", NOTICE_DAYS)))
    items = [r.to_dict() for r in due]
    if items:
        ctx.artifacts.table("compliance-reminders", items, description=f"{len(items)} reminder(s) due")
    return {"due": items, "count": len(items)}


# -- the PHI guard ------------------------------------------------------------------------------------

def guard_request(params: dict[str, Any], step_key: str) -> InputRequest | None:
    """Ask for an override only when the readiness step said something is missing."""
    missing = params.get("missing") or []
    if not missing:
        return None
    return InputRequest(kind="approval", step_key=step_key, approvers=tuple(params["approvers"]), question=(
        f"PHI guard for {params['location']}: PMS sync and DICOM send to the vendor are blocked until "
        f"{'; '.join(missing)}. Approve an override only with a reason (it is recorded and shown in every "
        "later status report)."))


def run_phi_guard(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    location = str(params["location"])
    status = compliance_status(store, _org(ctx), today=_day(ctx, params), location=location)
    base = {"step": ctx.step_key, "location": location}
    if status.phi_ready:
        ctx.audit("phi_guard.clear", base)
        return {"location": location, "allowed": True, "overridden": False, "missing": []}
    missing = list(status.phi_missing)
    decision = ctx.human_input
    if not isinstance(decision, Approval):
        ctx.audit("phi_guard.blocked", {**base, "missing": missing})
        raise PhiBlocked(f"PHI may not flow to the vendor for {location}: " + "; ".join(missing))
    record = {**base, "missing": missing, "approved_by": decision.name, "role": decision.role,
              "decision": decision.decision, "reason": decision.comment}
    accept_override(ctx, decision, record, list(params["approvers"]),
                    OverrideWording("the PHI guard", "the PHI guard", f"kept the PHI guard closed for {location}",
                                    "phi_guard.refused", "phi_guard.blocked"), PhiBlocked)
    ctx.audit(OVERRIDE_EVENT, record)
    ctx.logger.warning("PHI guard for %s overridden by %s (%s): %s", location, decision.name, decision.role,
                       decision.comment)
    return {"location": location, "allowed": True, "overridden": True, "missing": missing,
            "approved_by": decision.name, "role": decision.role, "reason": decision.comment}


# -- vendor-side PMS steps -----------------------------------------------------------------------------

def run_credential_handover(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    """The location's PMS credentials go to the vendor as secret references: checked, resolvable, never shown."""
    store = _store(ctx)
    org = _org(ctx)
    location = org.location(str(params["location"]))
    conn = getattr(location.pms, "connection", None) if location.pms is not None else None
    if conn is None:
        raise UserInputError(f"{location.id}: the organization file gives no PMS connection to hand over")
    refs = {"secret": conn.secret, **({"developer_secret": conn.developer_secret} if conn.developer_secret else {})}
    checked = {}
    for field_name, ref in refs.items():
        check_reference(ref, f"{location.id} pms.connection.{field_name}")
        if params.get("resolve", True):
            resolve(ref, f"{location.id} pms.connection.{field_name}")  # readable where the run runs; value unused
        checked[field_name] = ref
    contact = org.vendor_contact("integration_specialist")
    handed_to = contact.name if contact is not None else None
    report = {"location": location.id, "references": checked, "handed_to": handed_to,
              "channel": str(params.get("channel", "")), "resolved": bool(params.get("resolve", True))}
    evidence.record_check(store, subject="pms-credential-handover", location=location.id, passed=handed_to is not None,
                          report=report, run_id=ctx.run_id, summary={"handed_to": handed_to})
    ctx.audit("compliance.credential_handover", {"step": ctx.step_key, **report})
    if handed_to is None:
        raise ComplianceCheckFailed("no vendor integration specialist in the organization file (people with role "
                                    "Vendor, vendor_contact: integration_specialist) to hand the references to")
    return report


def run_vendor_request(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    org = _org(ctx)
    location = str(params.get("location") or "")
    if location:
        org.location(location)
    on = date.fromisoformat(str(params["on"])) if params.get("on") else _now(params).date()
    done = params.get("state", "requested") == "done"
    if not done and not params.get("within"):
        raise UserInputError(f"step {ctx.step_key}: a request needs `within` (how long it may take, e.g. 3d)")
    due_on = None if done else on + timedelta(seconds=parse_duration(params["within"]))
    rec = evidence.record_request(store, subject=str(params["subject"]), location=location,
                                  requested_by=str(params.get("by") or ctx.step_key), role=str(params["owner_role"]),
                                  requested_on=on, due_on=due_on, done=done, note=str(params.get("note", "")),
                                  run_id=ctx.run_id)
    return {"subject": rec.subject, "location": location or None, "state": "done" if done else "requested",
            "on": on.isoformat(), "due_on": due_on.isoformat() if due_on else None, "owner_role": rec.supplied_role}


def run_migration_check(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    failed_log = paths.data_file(str(params["failed_log"])) if params.get("failed_log") else None
    result = migration.reconcile(paths.data_file(str(params["source_counts"])),
                                 paths.data_file(str(params["migrated_counts"])), failed_log)
    out = result.to_dict()
    ctx.artifacts.table("migration-sample", out["categories"], description="Migrated record counts against the source")
    _fail_if(ctx, params, not result.passed, "migration sample validation: " + "; ".join(result.problems))
    return out


KINDS = (
    StepKind("compliance.evidence", run_evidence),
    StepKind("compliance.tls_check", run_tls),
    StepKind("compliance.audit_export", run_audit_export),
    StepKind("compliance.deletion_test", run_deletion_test),
    StepKind("compliance.access_check", run_access_check),
    StepKind("compliance.config_standards", run_config_standards),
    StepKind("compliance.status", run_status),
    StepKind("compliance.reminders", run_reminders),
    StepKind("compliance.phi_guard", run_phi_guard, request_input=guard_request),
    StepKind("compliance.credential_handover", run_credential_handover),
    StepKind("compliance.vendor_request", run_vendor_request),
    StepKind("compliance.migration_check", run_migration_check),
)
