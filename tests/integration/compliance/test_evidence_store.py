"""Evidence in the store (SQLite and PostgreSQL): documents kept by hash, checks, requests; the states
of the HIPAA requirements, the PHI guard's answer, reminders and overrides read back from it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from compliance_support import seed_phi_prerequisites

from golive.tasks.compliance import evidence
from golive.tasks.compliance.requirements import REQUIREMENTS, State
from golive.tasks.compliance.status import OVERRIDE_EVENT, compliance_status, reminders
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.planning.organization import Organization

pytestmark = pytest.mark.integration
TODAY = date(2026, 3, 16)


def _doc(tmp_path: Path, name: str, text: str = "signed") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_document_is_kept_by_hash_once(store: Any, tmp_path: Path) -> None:
    root = tmp_path / "ev"
    baa = _doc(tmp_path, "BAA.PDF", "executed agreement")
    first = evidence.record_document(store, subject="baa", file=baa, supplied_by="Helen Marsh", role="Legal",
                                     supplied_on=TODAY, root=root)
    again = evidence.record_document(store, subject="baa", file=baa, supplied_by="Helen Marsh", role="Legal",
                                     supplied_on=TODAY, root=root)
    assert again.id == first.id and len(evidence.history(store)) == 1
    kept = evidence.stored_file(first, root)
    assert kept.name == f"{first.sha256}.pdf" and kept.read_text() == "executed agreement"
    assert [p.name for p in root.iterdir()] == [kept.name]  # no temporary file left behind
    entries = [e for e in store.audit.entries() if e.event == "compliance.evidence"]
    assert len(entries) == 1 and entries[0].data["sha256"] == first.sha256 and store.audit.verify().ok


def test_bad_evidence_is_refused(store: Any, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no such evidence file"):
        evidence.record_document(store, subject="baa", file=tmp_path / "missing.pdf", supplied_by="x", role="Legal",
                                 supplied_on=TODAY)
    with pytest.raises(UserInputError, match="unknown compliance subject"):
        evidence.record_document(store, subject="bba", file=_doc(tmp_path, "a"), supplied_by="x", role="Legal",
                                 supplied_on=TODAY)
    with pytest.raises(UserInputError, match="expires on"):
        evidence.record_document(store, subject="backup", file=_doc(tmp_path, "b"), supplied_by="x", role="Vendor",
                                 supplied_on=TODAY, expires_on=TODAY)


def test_requirement_states_from_the_evidence(store: Any, tmp_path: Path, acme: Organization) -> None:
    root = tmp_path / "ev"
    status = compliance_status(store, acme, today=TODAY)
    assert {s.state for s in status.requirements} == {State.PENDING} and not status.phi_ready
    evidence.record_document(store, subject="backup", file=_doc(tmp_path, "sla"), supplied_by="Jordan Blake",
                             role="Vendor", supplied_on=TODAY - timedelta(days=400), expires_on=TODAY - timedelta(days=35),
                             root=root)
    evidence.record_check(store, subject="deletion", passed=False, report={"remaining": ["1 study"]}, root=root)
    evidence.record_document(store, subject="encryption-in-transit", file=_doc(tmp_path, "tls"), supplied_by="Jordan Blake",
                             role="Vendor", supplied_on=TODAY, expires_on=TODAY + timedelta(days=365), root=root)
    states = {s.requirement.id: s for s in compliance_status(store, acme, today=TODAY).requirements}
    assert states["backup"].state is State.EXPIRED
    assert states["deletion"].state is State.FAILED
    assert states["encryption-in-transit"].state is State.PENDING  # the attestation alone is not enough
    assert states["encryption-in-transit"].missing == ("automated check 'tls' not run",)
    evidence.record_check(store, subject="encryption-in-transit", passed=True, report={"protocol": "TLSv1.3"}, root=root)
    evidence.record_check(store, subject="deletion", passed=True, report={"remaining": []}, root=root)
    states = {s.requirement.id: s for s in compliance_status(store, acme, today=TODAY).requirements}
    assert states["encryption-in-transit"].state is State.COMPLETE and states["deletion"].state is State.COMPLETE


def test_phi_readiness_per_location(store: Any, tmp_path: Path, acme: Organization) -> None:
    seed_phi_prerequisites(store, "eastside-specialty", tmp_path, skip=("baa",), today=TODAY)
    at = compliance_status(store, acme, today=TODAY, location="eastside-specialty")
    assert not at.phi_ready and [m.split(":")[0] for m in at.phi_missing] == ["baa"]
    seed_phi_prerequisites(store, "eastside-specialty", tmp_path, today=TODAY)
    assert compliance_status(store, acme, today=TODAY, location="eastside-specialty").phi_ready
    # another location's access checks are its own: not run there, so PHI may not flow from it yet
    other = compliance_status(store, acme, today=TODAY, location="riverside-ortho")
    assert {m.split(":")[0] for m in other.phi_missing} == {"mfa", "rbac"}
    evidence.record_check(store, subject="rbac", location="riverside-ortho", passed=False, report={"violations": 1},
                          root=tmp_path / "ev")
    org_wide = compliance_status(store, acme, today=TODAY)
    rbac = next(s for s in org_wide.requirements if s.requirement.id == "rbac")
    assert rbac.state is State.FAILED and "riverside-ortho" in rbac.missing[0]
    with pytest.raises(UserInputError, match="did you mean"):
        compliance_status(store, acme, today=TODAY, location="eastside-specialy")


def test_reminders_for_lapsing_attestations_and_awaited_vendor_actions(store: Any, tmp_path: Path) -> None:
    root = tmp_path / "ev"
    evidence.record_document(store, subject="subprocessors", file=_doc(tmp_path, "subs"), supplied_by="Helen Marsh",
                             role="Legal", supplied_on=TODAY - timedelta(days=340), expires_on=TODAY + timedelta(days=25),
                             root=root)
    evidence.record_document(store, subject="backup", file=_doc(tmp_path, "sla"), supplied_by="Jordan Blake",
                             role="Vendor", supplied_on=TODAY, expires_on=TODAY + timedelta(days=300), root=root)
    evidence.record_request(store, subject="patterson-enablement", location="bayview", requested_by="VP of IT",
                            role="VP of IT", requested_on=TODAY - timedelta(days=5), due_on=TODAY - timedelta(days=2))
    due = reminders(evidence.history(store), today=TODAY)
    assert [(r.subject, r.days_left, r.what) for r in due] == [("patterson-enablement", -2, "awaited"),
                                                                ("subprocessors", 25, "renewal")]
    assert due[1].owner_roles == ("Legal",) and "overdue by 2 day(s)" in due[0].to_dict()["message"]
    evidence.record_request(store, subject="patterson-enablement", location="bayview", requested_by="Marcus Greene",
                            role="VP of IT", requested_on=TODAY, due_on=None, done=True)
    assert [r.subject for r in reminders(evidence.history(store), today=TODAY)] == ["subprocessors"]


def test_overrides_are_read_from_the_audit_log(store: Any, acme: Organization) -> None:
    store.audit.append(OVERRIDE_EVENT, {"location": "bayview", "approved_by": "Helen Marsh", "role": "Legal",
                                        "reason": "BAA signed, countersignature in the post", "missing": ["baa: ..."]})
    status = compliance_status(store, acme, today=TODAY, location="bayview")
    assert [(o.location, o.approved_by, o.reason) for o in status.overrides] == [
        ("bayview", "Helen Marsh", "BAA signed, countersignature in the post")]
    assert compliance_status(store, acme, today=TODAY, location="old-town").overrides == ()


def test_every_requirement_of_the_playbook_is_tracked() -> None:
    assert len(REQUIREMENTS) == 11
    assert {r.owner.value for r in REQUIREMENTS} == {"Legal", "IT", "IT + Clinical"}
