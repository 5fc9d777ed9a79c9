"""An in-memory PMS connector for unit tests of the battery and write-back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from golive.tasks.pms.protocol import (
    Capabilities,
    ClinicalRecord,
    Document,
    Patient,
    PmsNotFound,
    PmsUnavailable,
    Procedure,
    ProcedureCode,
    TreatmentPlan,
    Version,
)


@dataclass
class FakePms:
    system: str = "opendental"
    ver: str = "23.3.8"
    codes: tuple[str, ...] = ("D0367", "D6010")
    patients_: dict[str, Patient] = field(default_factory=dict)
    procs: dict[str, list[Procedure]] = field(default_factory=dict)
    plans: dict[str, TreatmentPlan] = field(default_factory=dict)
    attaches: dict[str, list[str]] = field(default_factory=dict)
    lose_next_create_response: bool = False
    mutate_on_read: bool = False
    on_create: object = None  # callable run before a create (to inspect the store)
    creates: int = 0

    def add_patients(self, n: int) -> None:
        for i in range(1, n + 1):
            pid = str(i)
            self.patients_[pid] = Patient(pid, f"L{i}", f"F{i}", "2000-01-01", "2024-01-01 00:00:00")
            self.procs[pid] = [Procedure(f"{i}00", pid, "D6010", "TP", "2024-02-01")]

    def version(self) -> Version:
        return Version.parse(self.ver)

    def capabilities(self) -> Capabilities:
        return Capabilities(self.system, "fake", treatment_plans=True, attach_procedures=True,
                            treatment_plan_roundtrip=True)

    def check_auth(self) -> None:
        return None

    def patients(self, changed_since: str | None = None, page_size: int = 100) -> Iterator[Patient]:
        yield from self.patients_.values()

    def sync_point(self) -> str | None:
        return None  # like the ODBC routes: the battery re-reads change stamps

    def changed_since(self, marker: str) -> set[str]:
        return {p.patient_id for p in self.patients_.values() if p.change_stamp >= marker}

    def patient(self, patient_id: str) -> Patient:
        if patient_id not in self.patients_:
            raise PmsNotFound("patient not found")
        return self.patients_[patient_id]

    def clinical_record(self, patient_id: str) -> ClinicalRecord:
        p = self.patient(patient_id)
        if self.mutate_on_read and patient_id == "3":
            self.patients_[patient_id] = replace(p, change_stamp="2099-01-01 00:00:00")
        return ClinicalRecord(p, tuple(self.procs.get(patient_id, [])), 1, 1, 1)

    def procedure_codes(self) -> Sequence[ProcedureCode]:
        return [ProcedureCode(str(i), c) for i, c in enumerate(self.codes)]

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        return self.procs.get(patient_id, [])

    def treatment_plans(self, patient_id: str) -> Sequence[TreatmentPlan]:
        return [p for p in self.plans.values() if p.patient_id == patient_id]

    def plan_procedures(self, plan_id: str) -> tuple[str, ...]:
        return tuple(self.attaches.get(plan_id, []))

    def create_treatment_plan(self, patient_id: str, heading: str, note: str) -> TreatmentPlan:
        if callable(self.on_create):
            self.on_create()
        self.creates += 1
        plan = TreatmentPlan(str(len(self.plans) + 1), patient_id, heading, note, "Inactive")
        self.plans[plan.plan_id] = plan
        if self.lose_next_create_response:
            self.lose_next_create_response = False
            raise PmsUnavailable("POST /treatplans: connection failed (RemoteProtocolError)")
        return plan

    def attach_procedures(self, plan_id: str, procedure_ids: Sequence[str]) -> None:
        have = self.attaches.setdefault(plan_id, [])
        have.extend(p for p in procedure_ids if p not in have)

    def delete_treatment_plan(self, plan_id: str) -> None:
        self.plans.pop(plan_id, None)
        self.attaches.pop(plan_id, None)

    def documents(self, patient_id: str) -> Sequence[Document]:
        return []

    def document(self, document_id: str) -> Document:
        raise PmsNotFound("document not found")

    def attach_document(self, patient_id: str, file_name: str, content: bytes, category: str,
                        description: str) -> Document:
        raise NotImplementedError

    def delete_document(self, document_id: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None
