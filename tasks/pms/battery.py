"""The playbook's PMS test battery (section 5), as plain functions over a `PmsConnector`.

Each check returns a `CheckResult` whose evidence is free of PHI: patients appear only as
pseudonyms. Statuses: `passed`; `failed`; `not_supported` (the version or route cannot do it —
never counted as a pass); `not_verified` (the check could not be run, e.g. too few records).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from typing import Any

from golive.tasks.pms import cdt
from golive.tasks.pms.protocol import (
    ClinicalRecord,
    PmsAuthError,
    PmsConnector,
    PmsError,
    PmsNotSupported,
    PmsUnavailable,
    Version,
)
from golive.tasks.pms.writeback import WritebackKey, find_plan, mark_removed, write_back

log = logging.getLogger(__name__)
Pseudo = Callable[[str], str]

# The playbook's minimum versions: Dentrix G7.4+, Eaglesoft 21.0+, Open Dental 22.1+ (recommended).
MINIMUM_VERSIONS = {"dentrix": "7.4", "eaglesoft": "21.0", "opendental": "22.1"}
# A 1x1 PNG: the smallest real image to prove attachment linking without any patient content.
TEST_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_SUPPORTED = "not_supported"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status.value, "summary": self.summary,
                "evidence": dict(self.evidence)}


def not_supported(reason: str) -> str:
    """A summary that says "not supported" exactly once."""
    return reason if "not supported" in reason else f"not supported by this route: {reason}"


class _Outcome:
    def __init__(self) -> None:
        self.result: CheckResult | None = None


@contextmanager
def _guard(check: str) -> Iterator[_Outcome]:
    """Turn connector errors into a result; messages carry no PHI (connectors redact record numbers)."""
    out = _Outcome()
    try:
        yield out
    except PmsNotSupported as exc:
        out.result = CheckResult(check, Status.NOT_SUPPORTED, not_supported(str(exc)))
    except PmsAuthError as exc:
        out.result = CheckResult(check, Status.FAILED, f"credentials refused or API not enabled: {exc}")
    except PmsError as exc:
        out.result = CheckResult(check, Status.FAILED, f"{type(exc).__name__}: {exc}")


def _run(check: str, body: Callable[[], CheckResult]) -> CheckResult:
    with _guard(check) as out:
        out.result = body()
    assert out.result is not None
    log.info("pms check %s: %s", check, out.result.status.value)
    return out.result


# -- 1. version ------------------------------------------------------------------------------------
def version_check(conn: PmsConnector, minimum: str | None = None, reported: str | None = None) -> CheckResult:
    """`reported`: the version the organization file records, used only to say what could not be read."""

    def body() -> CheckResult:
        need = Version.parse(minimum or MINIMUM_VERSIONS.get(conn.system, "0"))
        try:
            v = conn.version()
        except (PmsUnavailable, PmsNotSupported) as exc:
            if not reported:
                raise
            ok = Version.parse(reported).at_least(need)
            return CheckResult("version", Status.NOT_VERIFIED,
                               f"could not read the version from {conn.system} ({exc}); the organization file "
                               f"records {reported}, {'at or above' if ok else 'below'} the required {need}",
                               {"system": conn.system, "reported": reported, "minimum": need.text})
        caps = conn.capabilities()
        ev = {"system": conn.system, "version": v.text, "minimum": need.text, "route": caps.route,
              "treatment_plans": caps.treatment_plans, "attach_procedures": caps.attach_procedures,
              "documents": caps.documents, "limits": [why for _, why in caps.reasons]}
        ok = v.at_least(need)
        return CheckResult("version", Status.PASSED if ok else Status.FAILED,
                           f"{conn.system} {v} {'>=' if ok else '<'} required {need}", ev)

    return _run("version", body)


# -- 2. API enabled, credentials valid ---------------------------------------------------------------
def auth_check(conn: PmsConnector) -> CheckResult:
    def body() -> CheckResult:
        conn.check_auth()
        return CheckResult("auth", Status.PASSED, "API enabled and credentials accepted",
                           {"system": conn.system})

    return _run("auth", body)


# -- 3. patient read (Patient Data Flow checklist) -------------------------------------------------
def patient_read_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo,
                       allow_empty: Sequence[str] = ()) -> CheckResult:
    def body() -> CheckResult:
        rec: ClinicalRecord = conn.clinical_record(patient_id)
        p = rec.patient
        items: dict[str, str] = {
            "demographics": "available" if (p.last_name and p.first_name and p.birthdate) else "incomplete",
            "treatment_history": "available" if rec.procedures else "empty",
        }
        for name, count in (("allergies", rec.allergies), ("medications", rec.medications),
                            ("insurance", rec.insurance_plans)):
            items[name] = "not readable by this route" if count is None else ("available" if count else "empty")
        bad = [k for k, v in items.items() if v in ("incomplete", "empty") and k not in allow_empty]
        unsupported = [k for k, v in items.items() if v == "not readable by this route"]
        ev = {"patient": pseudo(patient_id), "items": items, "procedures": len(rec.procedures)}
        if bad:
            return CheckResult("patient_read", Status.FAILED, f"missing for the test patient: {', '.join(bad)}", ev)
        if unsupported:
            return CheckResult("patient_read", Status.NOT_SUPPORTED,
                               f"not supported by this route: {', '.join(unsupported)}", ev)
        return CheckResult("patient_read", Status.PASSED,
                           "demographics, history, allergies, medications and insurance readable", ev)

    return _run("patient_read", body)


# -- 4. treatment-plan write-back: write, read back, remove ------------------------------------------
def writeback_check(conn: PmsConnector, store: Any, key: WritebackKey, patient_id: str) -> CheckResult:
    def body() -> CheckResult:
        caps = conn.capabilities()
        if not caps.treatment_plans:
            return CheckResult("writeback", Status.NOT_SUPPORTED,
                               not_supported(caps.why_not("treatment_plans")),
                               {"system": conn.system, "route": caps.route})
        planned = [p.procedure_id for p in conn.procedures(patient_id) if p.status in ("TP", "TPi")]
        res = write_back(conn, store, key, patient_id, "golive integration test", planned[:3])
        back = find_plan(conn, patient_id, key.marker)
        attached_back = conn.plan_procedures(res.plan_id)
        conn.delete_treatment_plan(res.plan_id)
        mark_removed(store, key)
        gone = find_plan(conn, patient_id, key.marker) is None
        ev = {"patient": key.patient_pseudonym, "plan_id": res.plan_id, "created": res.created,
              "read_back": back is not None, "procedures_attached": len(attached_back),
              "procedures_planned": len(planned[:3]), "removed": gone, "idem_key": key.digest[:16]}
        if back is None or not gone:
            return CheckResult("writeback", Status.FAILED, "the plan was not read back or not removed", ev)
        if not res.attach_supported:
            return CheckResult("writeback", Status.NOT_SUPPORTED,
                               f"plan written, read back and removed; {not_supported(res.attach_reason)}", ev)
        if planned and len(set(attached_back)) != len(planned[:3]):
            return CheckResult("writeback", Status.FAILED, "attached procedures did not read back", ev)
        if not planned:
            return CheckResult("writeback", Status.NOT_VERIFIED,
                               "plan written, read back and removed, but the test patient has no "
                               "treatment-planned procedures to attach", ev)
        return CheckResult("writeback", Status.PASSED,
                           f"plan written with {len(planned[:3])} procedures, read back and removed", ev)

    return _run("writeback", body)


# -- 5. procedure-code mapping ---------------------------------------------------------------------
def code_mapping_check(conn: PmsConnector, emitted: Sequence[str] = cdt.PLATFORM_CODES,
                       custom: Mapping[str, str] | None = None) -> CheckResult:
    def body() -> CheckResult:
        pms_codes = {c.code for c in conn.procedure_codes()}
        custom_map = dict(custom or {})
        bad_form = [c for c in emitted if cdt.category(c) is None]
        missing = [c for c in emitted if c not in bad_form and custom_map.get(c, c) not in pms_codes]
        ev = {"emitted": len(emitted), "pms_codes": len(pms_codes), "bad_form_or_range": bad_form,
              "missing_in_pms": missing, "custom_mappings": custom_map}
        if bad_form or missing:
            return CheckResult("code_mapping", Status.FAILED,
                               f"{len(bad_form)} codes outside CDT form/range, {len(missing)} missing in the PMS", ev)
        return CheckResult("code_mapping", Status.PASSED,
                           f"all {len(emitted)} platform codes are CDT-form and exist in the PMS code list", ev)

    return _run("code_mapping", body)


# -- 6. non-destructive read of 10 real records ------------------------------------------------------
def _fingerprint(rec: ClinicalRecord) -> str:
    p = rec.patient
    parts = [p.patient_id, p.last_name, p.first_name, p.birthdate, p.change_stamp,
             *(f"{x.procedure_id}:{x.code}:{x.status}:{x.date}" for x in rec.procedures)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def nondestructive_check(conn: PmsConnector, pseudo: Pseudo, sample: int = 10,
                         patient_ids: Sequence[str] = (), exclude: Sequence[str] = ()) -> CheckResult:
    """Real records only: the designated test patient (written to by other checks) is excluded."""

    def body() -> CheckResult:
        ids = list(patient_ids) or [
            p.patient_id for p in islice((p for p in conn.patients() if p.patient_id not in exclude), sample)]
        if len(ids) < sample:
            return CheckResult("nondestructive", Status.NOT_VERIFIED,
                               f"only {len(ids)} records available; the playbook asks for {sample}",
                               {"records": len(ids)})
        before = {i: conn.patient(i).change_stamp for i in ids}
        prints = {i: _fingerprint(conn.clinical_record(i)) for i in ids}  # the full read under test
        after = {i: conn.patient(i).change_stamp for i in ids}
        again = {i: _fingerprint(conn.clinical_record(i)) for i in ids}
        changed = [pseudo(i) for i in ids if before[i] != after[i] or prints[i] != again[i]]
        ev = {"records": len(ids), "patients": [pseudo(i) for i in ids], "changed": changed,
              "stamp_field": "change stamp (Open Dental DateTStamp)"}
        if changed:
            return CheckResult("nondestructive", Status.FAILED,
                               f"{len(changed)} of {len(ids)} records changed during a read-only test", ev)
        return CheckResult("nondestructive", Status.PASSED,
                           f"{len(ids)} records read; change stamps identical before and after", ev)

    return _run("nondestructive", body)


# -- 7. imaging metadata passthrough -------------------------------------------------------------------
def imaging_passthrough_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo) -> CheckResult:
    def body() -> CheckResult:
        docs = conn.documents(patient_id)
        images = [d for d in docs if d.image_type]
        meta = [{"document_id": d.document_id, "patient": pseudo(d.patient_id), "category": d.category,
                 "image_type": d.image_type, "date_created": d.date_created} for d in images]
        ev = {"patient": pseudo(patient_id), "images": len(images), "metadata": meta[:20]}
        if not images:
            return CheckResult("imaging_passthrough", Status.NOT_VERIFIED,
                               "the test patient has no images on file to pass through", ev)
        incomplete = [m["document_id"] for m in meta if not (m["category"] and m["date_created"])]
        wrong_patient = [d.document_id for d in images if d.patient_id != patient_id]
        if incomplete or wrong_patient:
            ev = {**ev, "incomplete": incomplete, "wrong_patient": wrong_patient}
            return CheckResult("imaging_passthrough", Status.FAILED, "image metadata incomplete or misfiled", ev)
        return CheckResult("imaging_passthrough", Status.PASSED,
                           f"{len(images)} images: category, type and date pass through, filed on the right patient",
                           ev)

    return _run("imaging_passthrough", body)


# -- 8. image attachment linking -----------------------------------------------------------------------
def attachment_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo, marker: str,
                     category: str = "") -> CheckResult:
    def body() -> CheckResult:
        caps = conn.capabilities()
        if not caps.documents:
            return CheckResult("attachment", Status.NOT_SUPPORTED,
                               not_supported(caps.why_not("documents")), {"route": caps.route})
        doc = conn.attach_document(patient_id, "golive-test.png", TEST_PNG, category, marker)
        linked = [d for d in conn.documents(patient_id) if d.document_id == doc.document_id]
        conn.delete_document(doc.document_id)
        gone = not any(d.document_id == doc.document_id for d in conn.documents(patient_id))
        ev = {"patient": pseudo(patient_id), "document_id": doc.document_id, "linked": bool(linked),
              "removed": gone}
        if not linked or not gone:
            return CheckResult("attachment", Status.FAILED, "the image was not linked to the patient or not removed",
                               ev)
        return CheckResult("attachment", Status.PASSED, "test image attached to the patient, read back, removed", ev)

    return _run("attachment", body)
