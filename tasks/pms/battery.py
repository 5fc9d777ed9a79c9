"""The playbook's PMS test battery (section 5), as plain functions over a `PmsConnector`.

Each check returns a `CheckResult` whose evidence is free of PHI: patients appear only as
pseudonyms. Statuses: `passed`; `failed`; `not_supported` (the route cannot do it, e.g. Dentrix's
read-only views — never counted as a pass); `not_verified` (the check could not be run: too few
records, or "not verified on version X (needs Y)" when the office's version lacks a route the check
needs).

The battery never writes what it cannot undo: before any write it asks the connector whether the
matching removal exists on that version (`Capabilities.*_roundtrip`); where it does not, the check
is "not verified on version X (needs Y)" and nothing is created.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from typing import Any

from golive.tasks.foundation import crash
from golive.tasks.pms import cdt
from golive.tasks.pms.protocol import (
    Access,
    ClinicalRecord,
    Document,
    Limit,
    PmsAuthError,
    PmsConnector,
    PmsError,
    PmsNotSupported,
    PmsUnavailable,
    PmsUnreachable,
    PmsVersionTooLow,
    Version,
)
from golive.tasks.pms.writeback import (
    WritebackKey,
    find_plan,
    mark_removed,
    mark_removing,
    recorded,
    write_back,
)
from golive.tasks.store import intents
from golive.tasks.store.intents import IntentState

log = logging.getLogger(__name__)
Pseudo = Callable[[str], str]

# The playbook's minimum versions: Dentrix G7.4+, Eaglesoft 21.0+, Open Dental 22.1+ (recommended).
MINIMUM_VERSIONS = {"dentrix": "7.4", "eaglesoft": "21.0", "opendental": "22.1"}
# A 1x1 PNG: the smallest real image to prove attachment linking without any patient content.
TEST_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
# File types Open Dental's Images module shows as images (a document row's filePath ends in one).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".dcm"})
IMAGE_TYPES = frozenset({"Radiograph", "Photo"})  # ImgType values that are images (Documents GET single)
SINGLE_READS = 3  # documents without a file extension read one by one for their ImgType, at most


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


def not_verified_on(version: str, needs: str | None, what: str) -> str:
    """`not verified on version 23.1.12 (needs 24.4.26): ...`"""
    return f"not verified on version {version}{f' (needs {needs})' if needs else ''}: {what}"


def limited(check: str, conn: PmsConnector, limit: Limit, evidence: Mapping[str, Any]) -> CheckResult:
    """The result for a check whose capability is missing: a version limit or a route limit."""
    if limit.needs:
        return CheckResult(check, Status.NOT_VERIFIED, not_verified_on(conn.version().text, limit.needs, limit.why),
                           {**evidence, "needs": limit.needs})
    return CheckResult(check, Status.NOT_SUPPORTED, not_supported(limit.why), dict(evidence))


def refused(access: Access) -> str:
    return ("credentials refused or API not enabled" if access is Access.API
            else "the database connection refused the credentials")


class _Outcome:
    def __init__(self) -> None:
        self.result: CheckResult | None = None


@contextmanager
def _guard(check: str, conn: PmsConnector) -> Iterator[_Outcome]:
    """Turn connector errors into a result; messages carry no PHI (connectors redact record numbers).
    An unreachable PMS is not a check result: it ends the battery (`PmsUnreachable` propagates)."""
    out = _Outcome()
    try:
        yield out
    except PmsUnreachable:
        raise
    except PmsVersionTooLow as exc:
        out.result = CheckResult(check, Status.NOT_VERIFIED, not_verified_on(exc.version, exc.needs, str(exc)),
                                 {"route": exc.route, "needs": exc.needs})
    except PmsNotSupported as exc:
        out.result = CheckResult(check, Status.NOT_SUPPORTED, not_supported(str(exc)))
    except PmsAuthError as exc:
        access = Access.API if conn.system == "opendental" else Access.DATABASE  # no call: auth just failed
        out.result = CheckResult(check, Status.FAILED, f"{refused(access)}: {exc}")
    except PmsError as exc:
        out.result = CheckResult(check, Status.FAILED, f"{type(exc).__name__}: {exc}")


def _run(check: str, conn: PmsConnector, body: Callable[[], CheckResult]) -> CheckResult:
    with _guard(check, conn) as out:
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
              "treatment_plans": caps.treatment_plans, "treatment_plan_roundtrip": caps.treatment_plan_roundtrip,
              "attach_procedures": caps.attach_procedures, "documents": caps.documents,
              "document_roundtrip": caps.document_roundtrip, "limits": [x.why for x in caps.limits]}
        ok = v.at_least(need)
        return CheckResult("version", Status.PASSED if ok else Status.FAILED,
                           f"{conn.system} {v} {'>=' if ok else '<'} required {need}", ev)

    return _run("version", conn, body)


# -- 2. API enabled (or database connection open), credentials valid ---------------------------------
def auth_check(conn: PmsConnector) -> CheckResult:
    def body() -> CheckResult:
        conn.check_auth()
        caps = conn.capabilities()
        summary = ("API enabled and credentials accepted" if caps.access is Access.API
                   else "database connection opened with these credentials; the patient view is readable")
        return CheckResult("auth", Status.PASSED, summary, {"system": conn.system, "access": caps.access.value})

    return _run("auth", conn, body)


# -- 3. patient read (Patient Data Flow checklist) -------------------------------------------------
def patient_read_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo,
                       allow_empty: Sequence[str] = ()) -> CheckResult:
    def body() -> CheckResult:
        rec: ClinicalRecord = conn.clinical_record(patient_id)
        p = rec.patient
        limits = {x.capability: x for x in rec.limits}
        items: dict[str, str] = {
            "demographics": "available" if (p.last_name and p.first_name and p.birthdate) else "incomplete",
            "treatment_history": "available" if rec.procedures else "empty",
        }
        for name, count in (("allergies", rec.allergies), ("medications", rec.medications),
                            ("insurance", rec.insurance_plans)):
            if count is not None:
                items[name] = "available" if count else "empty"
            elif limits.get(name) and limits[name].needs:
                items[name] = f"not readable on version {conn.version()} (needs {limits[name].needs})"
            else:
                items[name] = "not readable by this route"
        bad = [k for k, v in items.items() if v in ("incomplete", "empty") and k not in allow_empty]
        too_old = [k for k, v in items.items() if v.startswith("not readable on version")]
        unsupported = [k for k, v in items.items() if v == "not readable by this route"]
        ev = {"patient": pseudo(patient_id), "items": items, "procedures": len(rec.procedures)}
        if bad:
            return CheckResult("patient_read", Status.FAILED, f"missing for the test patient: {', '.join(bad)}", ev)
        if too_old:
            needs = max((limits[k].needs or "" for k in too_old), key=Version.parse)
            return CheckResult("patient_read", Status.NOT_VERIFIED,
                               not_verified_on(conn.version().text, needs, f"{', '.join(too_old)} not readable"),
                               {**ev, "needs": needs})
        if unsupported:
            return CheckResult("patient_read", Status.NOT_SUPPORTED,
                               f"not supported by this route: {', '.join(unsupported)}", ev)
        return CheckResult("patient_read", Status.PASSED,
                           "demographics, history, allergies, medications and insurance readable", ev)

    return _run("patient_read", conn, body)


# -- 4. treatment-plan write-back: write, read back, remove ------------------------------------------
def writeback_check(conn: PmsConnector, store: Any, key: WritebackKey, patient_id: str) -> CheckResult:
    def body() -> CheckResult:
        caps = conn.capabilities()
        if not caps.treatment_plan_roundtrip:  # never write what cannot be removed again
            return limited("writeback", conn, caps.limit("treatment_plan_roundtrip"),
                           {"system": conn.system, "route": caps.route, "created": False})
        # A resume of the same run after the write (the key holds the run key): finish or report the
        # removal, never write again. Without a run key (`golive pms check`) each call is a new check.
        prior = recorded(store, key) if key.run_key else None
        if prior is not None and prior[0] in ("removing", "removed"):
            facts = prior[1]
            facts["ev"] = {**facts.get("ev", {}), "resumed": True}
            found = find_plan(conn, patient_id, key.marker)  # read before delete: removed already, or not yet
            return _finish_removal(conn, store, key, patient_id, facts, found.plan_id if found else None)
        planned = [p.procedure_id for p in conn.procedures(patient_id) if p.status in ("TP", "TPi")][:3]
        res = write_back(conn, store, key, patient_id, "golive integration test", planned)
        back = find_plan(conn, patient_id, key.marker)
        attached_back = conn.plan_procedures(res.plan_id)
        ev: dict[str, Any] = {"patient": key.patient_pseudonym, "plan_id": res.plan_id, "created": res.created,
                              "read_back": back is not None, "procedures_attached": len(attached_back),
                              "procedures_planned": len(planned), "idem_key": key.digest[:16]}
        facts = {"ev": ev, "attach_supported": res.attach_supported, "attach_reason": res.attach_reason[:150],
                 "attached_ok": not planned or len(set(attached_back)) == len(planned)}
        mark_removing(store, key, facts)  # committed before the delete: a resume finishes it, never rewrites
        crash.point("pms.writeback", "removing", key.step)
        return _finish_removal(conn, store, key, patient_id, facts, res.plan_id)

    return _run("writeback", conn, body)


def _finish_removal(conn: PmsConnector, store: Any, key: WritebackKey, patient_id: str,
                    facts: dict[str, Any], plan_id: str | None) -> CheckResult:
    """Delete the key's test plan `plan_id` (None: already gone), record `removed`, and judge the
    check from the recorded evidence (the same verdict on a first run and on a resume)."""
    ev = dict(facts.get("ev", {}))
    if plan_id is not None:
        try:
            conn.delete_treatment_plan(plan_id)
        except PmsError as exc:
            return CheckResult("writeback", Status.FAILED, f"the test plan {plan_id} was written but could not "
                               f"be removed; remove it by hand ({type(exc).__name__}: {exc})", {**ev, "removed": False})
    mark_removed(store, key, facts)
    ev["removed"] = find_plan(conn, patient_id, key.marker) is None
    planned = int(ev.get("procedures_planned", 0))
    if not ev.get("read_back") or not ev["removed"]:
        return CheckResult("writeback", Status.FAILED, "the plan was not read back or not removed", ev)
    if not facts.get("attach_supported", True):
        return CheckResult("writeback", Status.NOT_SUPPORTED,
                           f"plan written, read back and removed; {not_supported(str(facts.get('attach_reason', '')))}",
                           ev)
    if not facts.get("attached_ok", True):
        return CheckResult("writeback", Status.FAILED, "attached procedures did not read back", ev)
    if not planned:
        return CheckResult("writeback", Status.NOT_VERIFIED,
                           "plan written, read back and removed, but the test patient has no "
                           "treatment-planned procedures to attach", ev)
    return CheckResult("writeback", Status.PASSED,
                       f"plan written with {planned} procedures, read back and removed", ev)


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

    return _run("code_mapping", conn, body)


# -- 6. non-destructive read of 10 real records ------------------------------------------------------
def nondestructive_check(conn: PmsConnector, pseudo: Pseudo, sample: int = 10,
                         patient_ids: Sequence[str] = (), exclude: Sequence[str] = ()) -> CheckResult:
    """Real records only: the designated test patient (written to by other checks) is excluded.

    The listing's server time is the marker; after the full read of each record, the PMS is asked
    which patients changed since then (Open Dental: Patients GET Simple and ProcedureLogs GET with
    DateTStamp, two requests instead of re-reading every record). A route without a server clock
    re-reads each record's change stamp instead."""

    def body() -> CheckResult:
        if patient_ids:  # given records: one listing page still fixes the server time to compare with
            listing, ids = list(islice(conn.patients(), 1)), list(patient_ids)
        else:
            listing = list(islice((p for p in conn.patients() if p.patient_id not in exclude), sample))
            ids = [p.patient_id for p in listing]
        marker = conn.sync_point()
        if len(ids) < sample:
            return CheckResult("nondestructive", Status.NOT_VERIFIED,
                               f"only {len(ids)} records available; the playbook asks for {sample}",
                               {"records": len(ids)})
        listed = {p.patient_id: p.change_stamp for p in listing}
        before = {i: listed[i] if i in listed else conn.patient(i).change_stamp for i in ids}
        for i in ids:
            conn.clinical_record(i)  # the full read under test
        if marker:
            changed_ids = set(ids) & conn.changed_since(marker)
            how = "DateTStamp changes since the listing's serverDateTime"
        else:
            changed_ids = {i for i in ids if conn.patient(i).change_stamp != before[i]}
            how = "change stamps re-read"
        changed = [pseudo(i) for i in ids if i in changed_ids]
        ev = {"records": len(ids), "patients": [pseudo(i) for i in ids], "changed": changed, "method": how,
              "stamp_field": "change stamp (Open Dental DateTStamp)"}
        if changed:
            return CheckResult("nondestructive", Status.FAILED,
                               f"{len(changed)} of {len(ids)} records changed during a read-only test", ev)
        return CheckResult("nondestructive", Status.PASSED,
                           f"{len(ids)} records read; none changed ({how})", ev)

    return _run("nondestructive", conn, body)


# -- 7. imaging metadata passthrough -------------------------------------------------------------------
def _image_kind(conn: PmsConnector, doc: Document, budget: list[int]) -> str | None:
    """How a document is known to be an image, from what Documents GET (multiple) provides: a mount,
    an image file extension; else, while the budget lasts, its ImgType read singly (24.2.32+)."""
    if doc.is_mount:
        return "mount"
    if doc.extension in IMAGE_EXTENSIONS:
        return "file extension"
    if doc.extension or budget[0] <= 0:
        return None
    budget[0] -= 1
    try:
        return "ImgType" if conn.document(doc.document_id).image_type in IMAGE_TYPES else None
    except PmsNotSupported:
        budget[0] = 0  # the version has no single-document read: stop asking
        return None


def imaging_passthrough_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo) -> CheckResult:
    def body() -> CheckResult:
        docs = conn.documents(patient_id)
        budget = [SINGLE_READS]
        kinds = {d.document_id: _image_kind(conn, d, budget) for d in docs}
        images = [d for d in docs if kinds[d.document_id]]
        meta = [{"document_id": d.document_id, "kind": "mount" if d.is_mount else "image", "known_by":
                 kinds[d.document_id], "category": d.category, "extension": d.extension,
                 "date_created": d.date_created} for d in images]
        ev = {"patient": pseudo(patient_id), "documents": len(docs), "images": len(images), "metadata": meta[:20],
              "undetermined": len(docs) - len(images)}
        if not images:
            return CheckResult("imaging_passthrough", Status.NOT_VERIFIED,
                               "the test patient has no images or mounts on file to pass through", ev)
        incomplete = [m["document_id"] for m in meta if not (m["category"] and m["date_created"])]
        wrong_patient = [d.document_id for d in images if d.patient_id != str(patient_id)]
        if incomplete or wrong_patient:
            ev = {**ev, "incomplete": incomplete, "wrong_patient": wrong_patient}
            return CheckResult("imaging_passthrough", Status.FAILED, "image metadata incomplete or misfiled", ev)
        return CheckResult("imaging_passthrough", Status.PASSED,
                           f"{len(images)} images/mounts: category and date pass through, filed on the right patient",
                           ev)

    return _run("imaging_passthrough", conn, body)


# -- 8. image attachment linking -----------------------------------------------------------------------
def attachment_check(conn: PmsConnector, patient_id: str, pseudo: Pseudo, marker: str,
                     category: str = "", *, store: Any = None, intent: str = "", run_key: str = "",
                     step: str = "") -> CheckResult:
    """Upload a test image, read it back, remove it. Within a run (`intent`, a key holding the run
    key, and a store) the upload is an intent (tasks/store/intents.py): committed before the upload,
    `removing` with its evidence before the delete, `done` after; a resume finds its own image by the
    marker in its description (read-before-write) and finishes or reports, never uploads a second."""

    def body() -> CheckResult:
        caps = conn.capabilities()
        if not caps.document_roundtrip:  # never upload what cannot be removed again
            return limited("attachment", conn, caps.limit("document_roundtrip"),
                           {"route": caps.route, "created": False})
        tracked = bool(intent and store is not None)
        if tracked:
            prior = intents.begin(store, intent, run_key=run_key, step_key=step, kind="pms.attachment")
            if prior.state in (IntentState.REMOVING, IntentState.DONE):
                recorded_ev = {**prior.evidence.get("ev", {}), "resumed": True}
                left = next((d for d in conn.documents(patient_id) if d.description == marker), None)
                return _finish_attachment(conn, store, intent, patient_id, marker, recorded_ev,
                                          left.document_id if left else None)
        crash.point("pms.attachment", "intent", step)
        doc = conn.attach_document(patient_id, "golive-test.png", TEST_PNG, category, marker)
        linked = any(d.document_id == doc.document_id for d in conn.documents(patient_id))
        ev: dict[str, Any] = {"patient": pseudo(patient_id), "document_id": doc.document_id, "linked": linked}
        if tracked:  # committed before the delete: a resume finishes the removal, never uploads again
            intents.advance(store, intent, IntentState.REMOVING, {"ev": ev})
        crash.point("pms.attachment", "removing", step)
        return _finish_attachment(conn, store if tracked else None, intent, patient_id, marker, ev,
                                  doc.document_id)

    return _run("attachment", conn, body)


def _finish_attachment(conn: PmsConnector, store: Any, intent: str, patient_id: str, marker: str,
                       ev: dict[str, Any], document_id: str | None) -> CheckResult:
    """Delete the test image `document_id` (None: already gone), record `done`, judge from the evidence."""
    if document_id is not None:
        try:
            conn.delete_document(document_id)
        except PmsError as exc:
            return CheckResult("attachment", Status.FAILED, f"the test image {document_id} was uploaded but could "
                               f"not be removed; remove it by hand ({type(exc).__name__}: {exc})",
                               {**ev, "removed": False})
    ev = {**ev, "removed": not any(d.description == marker for d in conn.documents(patient_id))}
    if store is not None:
        intents.advance(store, intent, IntentState.DONE, {"ev": ev})
    if not ev.get("linked") or not ev["removed"]:
        return CheckResult("attachment", Status.FAILED, "the image was not linked to the patient or not removed", ev)
    return CheckResult("attachment", Status.PASSED, "test image attached to the patient, read back, removed", ev)
