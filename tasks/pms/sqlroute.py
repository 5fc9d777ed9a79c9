"""Shared read-only route over SQL views/tables (Dentrix ODBC views, Eaglesoft SQL Anywhere).

Both are MODELLED ON THIRD-PARTY DOCUMENTATION: neither vendor publishes an open API, so table and
column names live in one `Layout` per system, to correct in one place when a site's schema differs.
The route is read-only: writing treatment plans or images is reported as "not supported by this
route", never as a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, column, select, table
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from golive.tasks.pms.protocol import (
    Access,
    Capabilities,
    ClinicalRecord,
    Document,
    Limit,
    Patient,
    PmsAuthError,
    PmsNotFound,
    PmsNotSupported,
    PmsUnavailable,
    Procedure,
    ProcedureCode,
    TreatmentPlan,
    Version,
)

LABEL = "modelled on third-party documentation"


@dataclass(frozen=True)
class Layout:
    """Where a system keeps what the battery reads: (schema, table) and logical -> column names."""

    patient_table: tuple[str | None, str]
    patient_cols: dict[str, str]  # id, last, first, birth, stamp
    code_table: tuple[str | None, str]
    code_cols: dict[str, str]  # id, code


def _translate(exc: Exception, what: str) -> Exception:
    text = str(getattr(exc, "orig", exc)).lower()
    if isinstance(exc, DBAPIError) and any(w in text for w in ("login", "password", "permission", "access denied")):
        return PmsAuthError(f"{what}: the database connection refused the credentials or the view")
    return PmsUnavailable(f"{what}: {type(exc).__name__}")


class SqlViewConnector:
    system = "sql"
    route = f"odbc-views ({LABEL})"
    layout: Layout

    def __init__(self, engine: Engine, version_probe: Callable[[Engine], str]) -> None:
        self.engine = engine
        self._probe = version_probe
        self._version: Version | None = None

    def _rows(self, stmt: Any, what: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as c:
                return [dict(r._mapping) for r in c.execute(stmt, params or {})]
        except SQLAlchemyError as exc:
            raise _translate(exc, what) from None

    def _tbl(self, where: tuple[str | None, str], cols: Sequence[str]) -> Any:
        return table(where[1], *(column(c) for c in cols), schema=where[0])

    def version(self) -> Version:
        if self._version is None:
            try:
                self._version = Version.parse(self._probe(self.engine))
            except SQLAlchemyError as exc:
                raise _translate(exc, "reading the version") from None
        return self._version

    def capabilities(self) -> Capabilities:
        why = f"writing is not supported by this route (read-only views, {LABEL})"
        images = f"images are not readable by this route ({LABEL})"
        return Capabilities(
            system=self.system, route=self.route, access=Access.DATABASE,
            limits=(Limit("treatment_plans", f"reading treatment plans is not supported by this route ({LABEL})"),
                    Limit("attach_procedures", why), Limit("treatment_plan_roundtrip", why),
                    Limit("documents", images), Limit("document_roundtrip", images)))

    def check_auth(self) -> None:
        c = self.layout.patient_cols
        self._rows(select(self._tbl(self.layout.patient_table, [c["id"]]).c[c["id"]]).limit(1), "checking access")

    def _patient(self, r: dict[str, Any]) -> Patient:
        c = self.layout.patient_cols
        return Patient(str(r[c["id"]]), str(r[c["last"]] or ""), str(r[c["first"]] or ""),
                       str(r[c["birth"]] or ""), str(r[c["stamp"]] or ""))

    def patients(self, changed_since: str | None = None, page_size: int = 100) -> Iterator[Patient]:
        c = self.layout.patient_cols
        t = self._tbl(self.layout.patient_table, list(c.values()))
        offset = 0
        while True:
            stmt = select(t).order_by(t.c[c["id"]]).limit(page_size).offset(offset)
            if changed_since:
                stmt = stmt.where(t.c[c["stamp"]] >= changed_since)
            rows = self._rows(stmt, "reading patients")
            yield from (self._patient(r) for r in rows)
            if len(rows) < page_size:
                return
            offset += len(rows)

    def patient(self, patient_id: str) -> Patient:
        c = self.layout.patient_cols
        t = self._tbl(self.layout.patient_table, list(c.values()))
        rows = self._rows(select(t).where(t.c[c["id"]] == patient_id), "reading a patient")
        if not rows:
            raise PmsNotFound("patient not found")
        return self._patient(rows[0])

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        raise NotImplementedError

    def sync_point(self) -> str | None:
        return None  # no server clock is read through these views: the battery re-reads the stamps

    def changed_since(self, marker: str) -> set[str]:
        return {p.patient_id for p in self.patients(changed_since=marker)}

    def clinical_record(self, patient_id: str) -> ClinicalRecord:
        # Allergies, medications and insurance have no documented view on this route: None, not 0.
        why = f"not readable by this route (no documented view, {LABEL})"
        return ClinicalRecord(self.patient(patient_id), tuple(self.procedures(patient_id)),
                              allergies=None, medications=None, insurance_plans=None,
                              limits=tuple(Limit(item, why) for item in ("allergies", "medications", "insurance")))

    def procedure_codes(self) -> Sequence[ProcedureCode]:
        c = self.layout.code_cols
        t = self._tbl(self.layout.code_table, list(c.values()))
        return [ProcedureCode(str(r[c["id"]]), str(r[c["code"]]).strip())
                for r in self._rows(select(t).order_by(t.c[c["id"]]), "reading procedure codes")]

    def _unsupported(self, what: str) -> PmsNotSupported:
        return PmsNotSupported(f"{what} is not supported by this route (read-only views, {LABEL})")

    def treatment_plans(self, patient_id: str) -> Sequence[TreatmentPlan]:
        raise self._unsupported("reading treatment plans")

    def create_treatment_plan(self, patient_id: str, heading: str, note: str) -> TreatmentPlan:
        raise self._unsupported("writing a treatment plan")

    def attach_procedures(self, plan_id: str, procedure_ids: Sequence[str]) -> None:
        raise self._unsupported("attaching procedures to a plan")

    def plan_procedures(self, plan_id: str) -> tuple[str, ...]:
        raise self._unsupported("reading treatment plans")

    def delete_treatment_plan(self, plan_id: str) -> None:
        raise self._unsupported("deleting a treatment plan")

    def documents(self, patient_id: str) -> Sequence[Document]:
        raise self._unsupported("reading image metadata")

    def document(self, document_id: str) -> Document:
        raise self._unsupported("reading image metadata")

    def attach_document(self, patient_id: str, file_name: str, content: bytes, category: str,
                        description: str) -> Document:
        raise self._unsupported("attaching an image")

    def delete_document(self, document_id: str) -> None:
        raise self._unsupported("deleting an image")

    def close(self) -> None:
        self.engine.dispose()
