"""Rows shaped like the example responses on Open Dental's API pages (field names, order, types,
string booleans, the quirks: PatNum as a string in Documents and MedicationPats, mounts with DocNum 0),
with invented values and none of the pages' prose. `ReplayServer` answers the connector's routes
from them through httpx.MockTransport, and refuses any request whose route is not in the table."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from golive.tasks.pms.protocol import Version
from golive.tasks.pms.routes import match

SERVER_TIME = "2025-06-17 09:00:34"

# apipatients.html, "Patients GET Simple" example response (serverDateTime first).
PATIENTS_SIMPLE = [
    {"serverDateTime": SERVER_TIME, "PatNum": 7, "LName": "Examplar", "FName": "Ann", "MiddleI": "", "Preferred": "",
     "PatStatus": "Patient", "Gender": "Female", "Position": "Single", "Birthdate": "1980-02-03", "SSN": "",
     "Address": "", "Address2": "", "City": "", "State": "", "Zip": "", "HmPhone": "", "WkPhone": "",
     "WirelessPhone": "", "Guarantor": 7, "Email": "", "EstBalance": 0.0, "PriProv": 1, "priProvAbbr": "DOC1",
     "SecProv": 0, "secProvAbbr": "", "FeeSched": 0, "BillingType": "Standard Account", "ImageFolder": "ExamplarAnn7",
     "FamFinUrgNote": "", "ChartNumber": "", "MedicaidID": "", "BalTotal": 0.0, "EmployerNum": 0,
     "DateFirstVisit": "2021-08-19", "ClinicNum": 0, "clinicAbbr": "", "Premed": "false", "Ward": "",
     "PreferConfirmMethod": "None", "PreferContactMethod": "None", "PreferRecallMethod": "None", "Language": "",
     "AdmitDate": "0001-01-01", "siteDesc": "", "DateTStamp": "2025-06-10 14:22:55", "SuperFamily": 0,
     "TxtMsgOk": "Yes", "SecDateEntry": "2021-01-04"},
    {"serverDateTime": SERVER_TIME, "PatNum": 8, "LName": "Samplesson", "FName": "Bo", "MiddleI": "", "Preferred": "",
     "PatStatus": "Patient", "Gender": "Male", "Position": "Single", "Birthdate": "0001-01-01", "SSN": "",
     "Address": "", "Address2": "", "City": "", "State": "", "Zip": "", "HmPhone": "", "WkPhone": "",
     "WirelessPhone": "", "Guarantor": 8, "Email": "", "EstBalance": 0.0, "PriProv": 1, "priProvAbbr": "DOC1",
     "SecProv": 0, "secProvAbbr": "", "FeeSched": 0, "BillingType": "Standard Account", "ImageFolder": "SamplessonBo8",
     "FamFinUrgNote": "", "ChartNumber": "", "MedicaidID": "", "BalTotal": 0.0, "EmployerNum": 0,
     "DateFirstVisit": "2021-08-29", "ClinicNum": 0, "clinicAbbr": "", "Premed": "false", "Ward": "",
     "PreferConfirmMethod": "None", "PreferContactMethod": "None", "PreferRecallMethod": "None", "Language": "",
     "AdmitDate": "0001-01-01", "siteDesc": "", "DateTStamp": "2025-06-17 09:00:40", "SuperFamily": 0,
     "TxtMsgOk": "Yes", "SecDateEntry": "2021-02-04"},
]
# apipatients.html, "Patients GET (single)": the same fields without serverDateTime.
PATIENT = {k: v for k, v in PATIENTS_SIMPLE[0].items() if k != "serverDateTime"}

# apiprocedurelogs.html, "ProcedureLogs GET (multiple)" (descript blank here: no ADA wording).
PROCEDURELOGS = [
    {"ProcNum": 31, "PatNum": 7, "AptNum": 0, "ProcDate": "2025-05-01", "ProcFee": "1450.00", "Surf": "",
     "ToothNum": "19", "ToothRange": "", "Priority": 0, "priority": "", "ProcStatus": "TP", "ProvNum": 1,
     "provAbbr": "DOC1", "Dx": 0, "dxName": "", "PlannedAptNum": 0, "PlaceService": "Office", "Prosthesis": "",
     "DateOriginalProsth": "0001-01-01", "ClaimNote": "", "DateEntryC": "2025-04-20", "ClinicNum": 0, "CodeNum": 21,
     "procCode": "D6010", "descript": "", "UnitQty": 1, "BaseUnits": 0, "DateTP": "2025-04-20", "SiteNum": 0,
     "HideGraphics": "false", "CanadianTypeCodes": "", "ProcTime": "00:00:00", "ProcTimeEnd": "00:00:00",
     "DateTStamp": "2025-05-01 07:00:34", "Prognosis": 0, "IsLocked": "false", "BillingNote": "", "Discount": 0.0,
     "IsDateProsthEst": "false", "SecDateEntry": "2025-04-20 09:38:21", "serverDateTime": SERVER_TIME},
]
# apiallergies.html, apimedicationpats.html (PatNum a string there), apipatplans.html.
ALLERGIES = [{"AllergyNum": 1, "AllergyDefNum": 4, "PatNum": 7, "defDescription": "Latex", "defSnomedType": "None",
              "Reaction": "Hives", "StatusIsActive": "true", "DateAdverseReaction": "2020-03-18"}]
MEDICATIONPATS = [{"MedicationPatNum": 45, "PatNum": "7", "medName": "Examplamine", "MedicationNum": 12,
                   "PatNote": "", "DateStart": "2000-06-20", "DateStop": "0001-01-01", "ProvNum": 1}]
PATPLANS = [{"PatPlanNum": 1228, "PatNum": 7, "Ordinal": 1, "IsPending": "false", "Relationship": "Self",
             "PatID": "", "InsSubNum": 369, "OrthoAutoFeeBilledOverride": -1.0,
             "OrthoAutoNextClaimDate": "0001-01-01", "SecDateTEntry": "2021-01-26 14:54:04",
             "SecDateTEdit": "2021-02-16 13:42:33"}]
# apiprocedurecodes.html, "ProcedureCodes GET (multiple)": descriptions present on the real API, dropped by us.
PROCEDURECODES = [{"CodeNum": 21, "ProcCode": "D6010", "Descript": "licensed words", "AbbrDesc": "lw",
                   "ProcTime": "/X/", "ProcCat": 73, "procCat": "Implants", "TreatArea": "Tooth", "NoBillIns": "false",
                   "IsProsth": "false", "DefaultNote": "", "IsHygiene": "false", "DateTStamp": "2023-12-12 09:15:11"}]

# apidocuments.html, "Documents GET (multiple)": documents AND mounts; filePath, never FileName or ImgType.
DOCUMENTS = [
    {"DocNum": 34, "MountNum": 0, "filePath": "\\\\server\\OpenDentImages\\E\\ExamplarAnn7\\pano.jpg",
     "Description": "Pano", "PatNum": "7", "Note": "", "DateCreated": "2025-04-08 08:12:21", "docCategory": "X-Rays",
     "DocCategory": 14, "ToothNumbers": "", "ProvNum": "0", "PrintHeading": "false",
     "DateTStamp": "2025-04-18 11:45:01", "serverDateTime": SERVER_TIME},
    {"DocNum": 35, "MountNum": 0, "filePath": "\\\\server\\OpenDentImages\\E\\ExamplarAnn7\\referral.pdf",
     "Description": "Referral", "PatNum": "7", "Note": "", "DateCreated": "2025-04-09 08:12:21",
     "docCategory": "Letters", "DocCategory": 15, "ToothNumbers": "", "ProvNum": "0", "PrintHeading": "false",
     "DateTStamp": "2025-04-18 11:45:01", "serverDateTime": SERVER_TIME},
    {"DocNum": 0, "MountNum": 15, "filePath": "", "Description": " 5/11/2025: 4BW", "PatNum": "7",
     "Note": "", "DateCreated": "2025-05-11 13:26:39", "docCategory": "X-Rays", "DocCategory": 14,
     "ToothNumbers": "", "ProvNum": "0", "PrintHeading": "", "DateTStamp": "", "serverDateTime": SERVER_TIME},
]
# apidocuments.html, "Documents GET (single)": FileName and ImgType appear only here.
DOCUMENT = {"DocNum": 34, "Description": "Pano", "DateCreated": "2025-04-08 08:12:21", "DocCategory": 14,
            "docCategory": "X-Rays", "PatNum": 7, "FileName": "pano.jpg", "ImgType": "Radiograph", "ToothNumbers": "",
            "DateTStamp": "2025-04-18 11:45:01", "ProvNum": 0, "PrintHeading": "false"}
DOCUMENTS_SINGLE = {34: DOCUMENT, 35: DOCUMENT | {"DocNum": 35, "Description": "Referral", "DocCategory": 15,
                                                  "docCategory": "Letters", "FileName": "referral.pdf",
                                                  "ImgType": "Document"}}


@dataclass
class ReplayServer:
    """Answers from the rows above; `sent` records every (method, path); `version` is ProgramVersion."""

    version: str = "25.3.20.0"
    in_database: bool = False  # filePath blank, as for InDatabase storage
    server_time: str = SERVER_TIME  # the serverDateTime the answers carry
    sent: list[tuple[str, str]] = field(default_factory=list)
    plans: dict[int, dict[str, Any]] = field(default_factory=dict)
    attaches: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[int, dict[str, Any]] = field(default_factory=dict)
    override: Callable[[httpx.Request], httpx.Response | None] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, req: httpx.Request) -> httpx.Response:
        path = req.url.path.removeprefix("/api/v1")
        self.sent.append((req.method, path))
        row = match(req.method, path)
        assert row is not None, f"{req.method} {path} is not in the route table"
        assert req.headers.get("content-type") == "application/json", f"{req.method} {path} without Content-Type"
        if self.override and (answer := self.override(req)) is not None:
            return answer
        if not Version.parse(self.version).at_least(row.version):
            return httpx.Response(400, json="The version of the dental office is not high enough.")
        q = req.url.params
        body = json.loads(req.content) if req.content else {}
        name = row.name
        if name == "GET /preferences":
            return httpx.Response(200, json=[{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": self.version}])
        if name == "GET /patients/Simple":
            since = q.get("DateTStamp", "")
            rows = [r | {"serverDateTime": self.server_time} for r in PATIENTS_SIMPLE if r["DateTStamp"] >= since]
            return httpx.Response(200, json=rows[int(q.get("Offset", 0)):][: int(q.get("Limit", 100))])
        if name == "GET /patients/{PatNum}":
            return httpx.Response(200, json=PATIENT)
        lists = {"GET /procedurelogs": PROCEDURELOGS, "GET /allergies": ALLERGIES, "GET /medicationpats": MEDICATIONPATS,
                 "GET /patplans": PATPLANS, "GET /procedurecodes": PROCEDURECODES}
        if name in lists:
            since = q.get("DateTStamp", "")
            return httpx.Response(200, json=[r for r in lists[name] if str(r.get("DateTStamp", "")) >= since])
        if name == "GET /documents":
            docs = [dict(d, filePath="") if self.in_database else d for d in DOCUMENTS]
            return httpx.Response(200, json=docs + [self._listed(u) for u in self.uploads.values()])
        if name == "GET /documents/{DocNum}":
            return httpx.Response(200, json=DOCUMENTS_SINGLE[int(path.rsplit("/", 1)[-1])])
        return self._write(name, path, body, q)

    @staticmethod
    def _listed(upload: dict[str, Any]) -> dict[str, Any]:
        return {"DocNum": upload["DocNum"], "MountNum": 0, "filePath": "", "Description": upload["Description"],
                "PatNum": str(upload["PatNum"]), "Note": "", "DateCreated": "2025-06-17 09:00:34",
                "docCategory": "Photos", "DocCategory": 16, "ToothNumbers": "", "ProvNum": "0",
                "PrintHeading": "false", "DateTStamp": "2025-06-17 09:00:34", "serverDateTime": SERVER_TIME}

    def _write(self, name: str, path: str, body: dict[str, Any], q: httpx.QueryParams) -> httpx.Response:
        num = int(path.rsplit("/", 1)[-1]) if path.rsplit("/", 1)[-1].isdigit() else 0
        if name == "GET /treatplans":
            return httpx.Response(200, json=[p for p in self.plans.values() if str(p["PatNum"]) == q.get("PatNum")])
        if name == "POST /treatplans":
            n = 18 + len(self.plans)
            self.plans[n] = {"TreatPlanNum": n, "PatNum": body["PatNum"], "DateTP": "0001-01-01",
                             "Heading": body.get("Heading", ""), "Note": body.get("Note", ""), "TPStatus": "Inactive",
                             "TPType": "Insurance", "SecDateTEdit": SERVER_TIME}
            return httpx.Response(201, json=self.plans[n])
        if name == "DELETE /treatplans/{TreatPlanNum}":
            self.plans.pop(num, None)
            self.attaches = [a for a in self.attaches if a["TreatPlanNum"] != num]
            return httpx.Response(200)
        if name == "GET /treatplanattaches":
            return httpx.Response(200, json=[a for a in self.attaches if str(a["TreatPlanNum"]) == q.get("TreatPlanNum")])
        if name == "POST /treatplanattaches":
            a = {"TreatPlanAttachNum": 70 + len(self.attaches), "TreatPlanNum": body["TreatPlanNum"],
                 "ProcNum": body["ProcNum"], "Priority": 0, "priority": ""}
            self.attaches.append(a)
            return httpx.Response(201, json=a)
        if name == "POST /documents/Upload":
            n = 93 + len(self.uploads)
            self.uploads[n] = {"DocNum": n, "Description": body.get("Description", ""), "PatNum": body["PatNum"],
                               "FileName": "x", "ImgType": body.get("ImgType", "Document")}
            return httpx.Response(201, json=self.uploads[n])
        if name == "DELETE /documents/{DocNum}":
            self.uploads.pop(num, None)
            return httpx.Response(200)
        raise AssertionError(f"no replay for {name}")
