"""The playbook's Enterprise HIPAA Checklist (section 5) as data: eleven requirements, each with its
verification method, owner, the evidence it needs and whether it must be complete before PHI flows.

What a requirement needs to be complete:
- `document`: a file someone supplies (the executed BAA, a vendor attestation, a test record),
  stored with its hash. Vendor attestations expire (`attestation=True`): the reminder runbook asks
  for renewal before they lapse.
- `check`: an automated verification golive runs from our side (TLS of the platform endpoint, our
  own audit export, the deletion workflow, the access matrix and MFA against the identity
  provider). Its latest result must be a pass; per-location checks count per location.

Which requirements precede PHI is a choice the playbook leaves open; golive takes the careful one:
the agreement (BAA), both encryption attestations, the audit trail, MFA, role-based access and data
residency must be complete before any PMS sync or DICOM send to the vendor (the PHI guard in
`integration-validation`). Backup, incident response, subprocessors and deletion are tracked but
do not block a first validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from golive.tasks.foundation.errors import UserInputError


class Owner(str, Enum):
    """The playbook's owner column."""

    LEGAL = "Legal"
    IT = "IT"
    IT_CLINICAL = "IT + Clinical"

    @property
    def roles(self) -> tuple[str, ...]:
        """The organization roles that answer for this owner (reminders and notices go to them)."""
        return {Owner.LEGAL: ("Legal",), Owner.IT: ("VP of IT",), Owner.IT_CLINICAL: ("VP of IT", "CDO")}[self]


class Check(str, Enum):
    """Automated verifications golive runs from the group's side."""

    TLS = "tls"
    AUDIT_EXPORT = "audit-export"
    DELETION = "deletion"
    ACCESS_MATRIX = "access-matrix"
    MFA = "mfa"

    @property
    def per_location(self) -> bool:
        return self in (Check.ACCESS_MATRIX, Check.MFA)


class State(str, Enum):
    COMPLETE = "complete"
    PENDING = "pending"  # evidence or a check result is missing
    FAILED = "failed"  # the latest check failed
    EXPIRED = "expired"  # the document's validity ended


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str
    verification: str  # the playbook's verification method
    owner: Owner
    vendor: bool  # the playbook marks it as needing the vendor
    document: str | None  # the document that evidences it, or None when a check alone does
    check: Check | None = None
    attestation: bool = False  # the document is a vendor attestation with an expiry date
    before_phi: bool = False

    @property
    def owner_roles(self) -> tuple[str, ...]:
        return self.owner.roles


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("baa", "Business Associate Agreement executed", "Legal review", Owner.LEGAL, True,
                "the executed BAA, reviewed by Legal", before_phi=True),
    Requirement("encryption-at-rest", "Data encryption at rest (AES-256 minimum)", "Vendor attestation", Owner.IT,
                True, "the vendor's attestation of AES-256 encryption at rest", attestation=True, before_phi=True),
    Requirement("encryption-in-transit", "Data encryption in transit (TLS 1.2+)", "Vendor attestation", Owner.IT,
                True, "the vendor's attestation of TLS 1.2 or later", check=Check.TLS, attestation=True,
                before_phi=True),
    Requirement("audit-trail", "Access logging and audit trail", "Test audit report generation", Owner.IT, False,
                None, check=Check.AUDIT_EXPORT, before_phi=True),
    Requirement("mfa", "User authentication (MFA)", "Test login flow", Owner.IT, False,
                "a record of the login-flow test (MFA prompted at sign-in)", check=Check.MFA, before_phi=True),
    Requirement("rbac", "Role-based access controls", "Review RBAC matrix", Owner.IT_CLINICAL, False,
                "the RBAC matrix review signed by IT and Clinical", check=Check.ACCESS_MATRIX, before_phi=True),
    Requirement("backup", "Data backup and recovery", "Review backup SLA", Owner.IT, True,
                "the vendor's backup and recovery SLA", attestation=True),
    Requirement("incident-response", "Incident response plan documented", "Request from vendor", Owner.IT, True,
                "the vendor's incident response plan", attestation=True),
    Requirement("subprocessors", "Subprocessor list reviewed", "Request from vendor", Owner.LEGAL, True,
                "the vendor's subprocessor list, reviewed by Legal", attestation=True),
    Requirement("data-residency", "Data residency requirements met", "Confirm data center locations", Owner.LEGAL,
                True, "the vendor's confirmation of its data center locations", attestation=True, before_phi=True),
    Requirement("deletion", "Patient data can be deleted on request", "Test deletion workflow", Owner.IT, False,
                None, check=Check.DELETION),
)

BY_ID = {r.id: r for r in REQUIREMENTS}

# Other subjects evidence is kept for: the configuration-standards check, and vendor actions the
# group waits on (Patterson's API enablement for Eaglesoft takes 1-3 days).
OTHER_SUBJECTS: dict[str, str] = {
    "configuration-standards": "Enterprise configuration standards (drift check)",
    "patterson-enablement": "Patterson support enabled the Eaglesoft API",
    "pms-credential-handover": "PMS credentials handed to the vendor as a secret reference",
}
SUBJECTS: tuple[str, ...] = (*BY_ID, *OTHER_SUBJECTS)


def requirement(requirement_id: str) -> Requirement:
    try:
        return BY_ID[requirement_id]
    except KeyError:
        raise UserInputError(f"unknown HIPAA requirement {requirement_id!r}; known: {', '.join(BY_ID)}") from None


def check_subject(subject: str) -> str:
    if subject not in SUBJECTS:
        raise UserInputError(f"unknown compliance subject {subject!r}; known: {', '.join(SUBJECTS)}")
    return subject


def requirement_for(check: Check) -> Requirement:
    return next(r for r in REQUIREMENTS if r.check is check)
