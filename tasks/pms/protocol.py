"""One protocol for every practice-management (PMS) connector, its value types and its error tree.

PHI (names, birth dates, the PMS's own patient ids) lives only inside these values while a check
runs: their `repr` hides it, and nothing here logs it. Results leave through `pseudonym.py`.
CDT descriptions are ADA-licensed, so `ProcedureCode` carries the code only, never a description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from golive.tasks.foundation.errors import ConnectorError


# --- errors ---------------------------------------------------------------------------------------
class PmsError(ConnectorError):
    """A practice-management system call failed; subclasses say how."""


class PmsAuthError(PmsError):
    """Credentials were refused (401/403) or the API is not enabled for this customer key."""


class PmsNotFound(PmsError):
    """The record asked for does not exist in the PMS (404)."""


class PmsRateLimited(PmsError):
    """The PMS answered 429 with `Retry-After` (Open Dental documents no 429; one is still honoured)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PmsUnavailable(PmsError):
    """The PMS did not answer usefully but may next time: a 5xx/504, a read timeout, a dropped
    connection, or Open Dental's transient 400 (eConnector or office network trouble). Retried."""


class PmsUnreachable(PmsError):
    """No connection at all: refused, host not found, or the connect timed out. Not retried by the
    connector: the run says so at once (a step's own `retries` may try again later)."""


class PmsBadRequest(PmsError):
    """The PMS rejected the request as malformed (400), with its explanation."""


class PmsNotSupported(PmsError):
    """The PMS version or the connector's route cannot do this (e.g. write a treatment plan)."""


class PmsVersionTooLow(PmsNotSupported):
    """The customer's version is below the route's "Version Added" (from the route table, before any
    call, or from Open Dental's own 400 "not high enough")."""

    def __init__(self, message: str, version: str, needs: str | None, route: str) -> None:
        super().__init__(message)
        self.version, self.needs, self.route = version, needs, route


class PmsGone(PmsNotSupported):
    """410 Gone: Open Dental has deprecated the route (apiimplementation.html). Not retried."""


class PmsConfigError(PmsError):
    """The connection settings are missing or unsafe (no URL, plain HTTP to a remote host)."""


# --- versions -------------------------------------------------------------------------------------
_NUM = re.compile(r"\d+")


@dataclass(frozen=True, order=True)
class Version:
    """A dotted version; `text` is what the PMS reported ("22.4.16.0", "G7.4", "21.20.08")."""

    parts: tuple[int, ...]
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        nums = tuple(int(n) for n in _NUM.findall(str(text)))
        if not nums:
            raise PmsBadRequest(f"not a version: {text!r}")
        return cls(nums, str(text))

    def at_least(self, other: Version | str) -> bool:
        o = other if isinstance(other, Version) else Version.parse(other)
        width = max(len(self.parts), len(o.parts))
        pad = lambda p: p + (0,) * (width - len(p))  # noqa: E731
        return pad(self.parts) >= pad(o.parts)

    def __str__(self) -> str:
        return self.text


# --- values ---------------------------------------------------------------------------------------
class Access(str, Enum):
    """What the credentials open: the wording of the auth check follows it."""

    API = "API"  # Open Dental's REST API
    DATABASE = "database connection"  # Dentrix, Eaglesoft: ODBC to the practice database


@dataclass(frozen=True)
class Limit:
    """Why a capability is missing: `needs` is the version that would have it (None: this route never will)."""

    capability: str
    why: str
    needs: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What this connector can do against this PMS version, each with the reason when it cannot.

    The `*_roundtrip` capabilities are what the battery needs before it writes anything: create,
    read back AND remove again. A version that can create but not remove is not asked to create."""

    system: str
    route: str  # "rest-api" | "odbc-views (modelled on third-party documentation)" | ...
    access: Access = Access.API
    read_patients: bool = True
    treatment_plans: bool = False  # read plans and their procedures
    attach_procedures: bool = False
    treatment_plan_roundtrip: bool = False  # create, attach, read back, delete
    documents: bool = False  # read the patient's documents and mounts
    document_roundtrip: bool = False  # upload, read back, delete
    limits: tuple[Limit, ...] = ()

    def limit(self, capability: str) -> Limit:
        found = next((x for x in self.limits if x.capability == capability), None)
        return found or Limit(capability, f"{capability} is not supported by this route")

    def why_not(self, capability: str) -> str:
        return self.limit(capability).why


@dataclass(frozen=True)
class Patient:
    patient_id: str = field(repr=False)  # the PMS's own key (PatNum): PHI
    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    birthdate: str = field(repr=False)
    change_stamp: str = ""  # DateTStamp or equivalent; proves read-only access


@dataclass(frozen=True)
class ProcedureCode:
    code_id: str
    code: str  # CDT form "D####" or a local code; never a description


@dataclass(frozen=True)
class Procedure:
    procedure_id: str
    patient_id: str = field(repr=False)
    code: str = ""
    status: str = ""  # Open Dental ProcStatus: TP, C, EC, EO, R, D, Cn, TPi
    date: str = ""


@dataclass(frozen=True)
class TreatmentPlan:
    plan_id: str
    patient_id: str = field(repr=False)
    heading: str = ""
    note: str = field(default="", repr=False)
    status: str = ""  # Active | Inactive | Saved
    procedure_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A document or a mount filed on a patient, as Open Dental's Documents GET (multiple) gives it:
    no FileName or ImgType there. `extension` comes from `filePath` (which itself carries the
    patient's image folder name, so it is never kept); `image_type` only from a single-document read."""

    document_id: str  # DocNum, or "mount:MountNum" for a mount
    patient_id: str = field(repr=False)
    category: str = ""  # docCategory: the practice's image category name
    date_created: str = ""
    description: str = field(default="", repr=False)
    extension: str = ""  # ".jpg", ".dcm"; "" when stored in the database
    is_mount: bool = False
    tooth_numbers: str = field(default="", repr=False)
    image_type: str = ""  # Radiograph | Photo | Document | File | Attachment, when read singly


@dataclass(frozen=True)
class ClinicalRecord:
    """What the playbook's "Patient Data Flow" checklist asks to be readable for one patient."""

    patient: Patient
    procedures: tuple[Procedure, ...]
    allergies: int | None  # None: this route/version cannot read them (not "none on file")
    medications: int | None
    insurance_plans: int | None
    limits: tuple[Limit, ...] = ()  # why an item is None


@runtime_checkable
class PmsConnector(Protocol):
    """Every PMS connector: Open Dental (REST), Dentrix and Eaglesoft (ODBC-style views)."""

    system: str

    def version(self) -> Version: ...

    def capabilities(self) -> Capabilities: ...

    def check_auth(self) -> None:
        """Raise `PmsAuthError` unless the credentials work and the API/route is enabled."""

    def patients(self, changed_since: str | None = None, page_size: int = 100) -> Iterator[Patient]: ...

    def sync_point(self) -> str | None:
        """The PMS's own time of the last patient listing (Open Dental's serverDateTime), from which
        `changed_since` finds later edits; None where the route has no server clock to offer."""

    def changed_since(self, marker: str) -> set[str]:
        """Patient ids whose record or procedures changed at or after `marker` (a `sync_point`)."""

    def patient(self, patient_id: str) -> Patient: ...

    def clinical_record(self, patient_id: str) -> ClinicalRecord: ...

    def procedure_codes(self) -> Sequence[ProcedureCode]: ...

    def procedures(self, patient_id: str) -> Sequence[Procedure]: ...

    def treatment_plans(self, patient_id: str) -> Sequence[TreatmentPlan]: ...

    def create_treatment_plan(self, patient_id: str, heading: str, note: str) -> TreatmentPlan: ...

    def attach_procedures(self, plan_id: str, procedure_ids: Sequence[str]) -> None: ...

    def plan_procedures(self, plan_id: str) -> tuple[str, ...]:
        """Procedure ids attached to a plan (read back after a write)."""

    def delete_treatment_plan(self, plan_id: str) -> None: ...

    def documents(self, patient_id: str) -> Sequence[Document]: ...

    def document(self, document_id: str) -> Document:
        """One document read singly: with its image type where the PMS gives one."""

    def attach_document(
        self, patient_id: str, file_name: str, content: bytes, category: str, description: str
    ) -> Document: ...

    def delete_document(self, document_id: str) -> None: ...

    def close(self) -> None: ...
