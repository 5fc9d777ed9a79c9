"""The organization file's compliance parts: Vendor and Legal roles, the vendor's key contacts and
support SLA, the Access Control Matrix; their mistakes come back with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.planning.organization import Organization, OrganizationInvalid, load_organization

BASE = """\
apiVersion: golive/v1
kind: Organization
name: Tiny Dental
timezone: America/Denver
regions:
  - {id: west, name: West}
locations:
  - {id: one, name: One, region: west}
"""
MATRIX_ROW = "{view_imaging: full, view_analysis: full, create_plan: none, edit_plan: none, admin: none, billing: none}"


def _load(tmp_path: Path, extra: str) -> Organization:
    path = tmp_path / "org.yaml"
    path.write_text(BASE + extra)
    return load_organization(path)


def test_the_example_records_the_vendor_contacts_legal_and_the_matrix(acme: Organization) -> None:
    contact = acme.vendor_contact("support_desk")
    assert contact is not None and "Vendor" in contact.roles and contact.phone
    assert acme.vendor is not None and acme.vendor.support_sla == {"urgent": "1h", "high": "4h", "normal": "1d"}
    assert [p.name for p in acme.people_with_role("Legal")] == ["Helen Marsh"]
    assert acme.access_control is not None and acme.access_control.basis == "assumption"
    assert acme.access_control.service_accounts == ("svc-platform-integration",)
    with pytest.raises(UserInputError, match="unknown vendor contact"):
        acme.vendor_contact("account_executive")


def test_vendor_contact_mistakes(tmp_path: Path) -> None:
    people = """people:
  - {name: Jo Vendor, roles: [Vendor], vendor_contact: support_desk}
  - {name: Al Staff, roles: [Central IT], vendor_contact: support_desk}
vendor: {name: V, support_sla: {urgent: soon}}
"""
    with pytest.raises(OrganizationInvalid) as caught:
        _load(tmp_path, people)
    messages = [i.format() for i in caught.value.issues]
    assert any(":12:" in m and "is not a duration" in m for m in messages), messages
    assert any(":11:" in m and "Al Staff is a vendor contact but does not have the role Vendor" in m for m in messages)
    assert any(":11:" in m and "two people are the vendor's support_desk" in m for m in messages)


def test_the_matrix_must_name_every_role_and_permission(tmp_path: Path) -> None:
    rows = "\n".join(f"    {role}: {MATRIX_ROW}" for role in ("Provider", "Hygienist", "Front Desk", "Office Manager",
                                                                  "Regional Manager", "Central IT"))
    with pytest.raises(OrganizationInvalid) as caught:
        _load(tmp_path, f"access_control:\n  basis: assumption\n  matrix:\n{rows}\n")
    assert caught.value.issues[0].message == "access_control.matrix: missing required key 'CDO'"
    full = rows + f"\n    CDO: {MATRIX_ROW.replace('billing: none', 'billing: some')}"
    with pytest.raises(OrganizationInvalid) as caught:
        _load(tmp_path, f"access_control:\n  basis: assumption\n  matrix:\n{full}\n")
    (issue,) = caught.value.issues
    assert issue.message == "access_control.matrix.CDO.billing: 'some' is not one of 'full', 'limited', 'none'"
    assert (issue.line, issue.hint) == (18, "did you mean 'none'?")
