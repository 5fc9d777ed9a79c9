"""The simulator's routes: the Open Dental API subset golive uses, as its documentation describes it.

Which routes exist, and from which version, comes from the same table the connector reads
(`golive.tasks.pms.routes`): a path not in it answers 404 ("The specified API resource does not
exist"); a version below the row's "Version Added" answers 400 "not high enough"; a row marked
deprecated here answers 410 Gone (apiimplementation.html, "Returned Status Codes"). Every request
needs `Content-Type: application/json` (same page, "Headers"), else 400. Rows are shaped like the
documentation's example responses (field names, order, string booleans); values are invented.
`/_sim/*` are simulator-only controls (faults, version, throttle, counters, raw rows, reset).
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from golive.tasks.pms.protocol import Version
from golive.tasks.pms.routes import PARAMS_ADDED, ROUTES, match
from golive.tasks.pms.simulator import SIMULATOR_NAME
from golive.tasks.pms.simulator.db import DOC_CATEGORIES, PROC_CATS, SimDb, now_text
from golive.tasks.pms.simulator.faults import FaultInjector, FaultState

MAX_LIMIT = 100
# apipreferences.html example rows; "TreatmentPlanNote" is the default Note of TreatPlans POST.
PREFERENCES = (("ProgramVersion", None), ("TreatmentPlanNote", "If you have insurance, THIS IS AN ESTIMATE ONLY."),
               ("RecallDaysPast", "365"))


@dataclass
class SimSettings:
    version: str = "25.3.20.0"
    developer_key: str = "sim-developer-key"
    customer_key: str = "sim-customer-key"
    api_enabled: bool = True
    storage: str = "AtoZ"  # AtoZ | InDatabase: "If the file storage method is InDatabase, ... filePath ... blank"
    gone: list[str] = field(default_factory=list)  # route names answered 410 (deprecated), e.g. "GET /patplans"


def _explain(status: int, text: str) -> JSONResponse:
    return JSONResponse(text, status_code=status)


def _json(page: list[dict[str, Any]] | JSONResponse) -> JSONResponse:
    """Rows as a response object: FastAPI's own encoder of returned values is slow for big pages."""
    return page if isinstance(page, JSONResponse) else JSONResponse(page)


def _window(request: Request) -> tuple[int, int] | JSONResponse:
    """(Offset, Limit) from the query; Limit is capped at 100 (apiimplementation.html, "Pagination")."""
    q = request.query_params
    try:
        offset = int(q.get("Offset", "0"))
        limit = min(int(q.get("Limit", str(MAX_LIMIT))), MAX_LIMIT)
    except ValueError:
        return _explain(400, "Offset and Limit must be whole numbers.")
    if offset < 0 or limit < 1:
        return _explain(400, "Offset must be 0 or more and Limit 1 or more.")
    return offset, limit


def _page(rows: list[dict[str, Any]], request: Request) -> list[dict[str, Any]] | JSONResponse:
    window = _window(request)
    if isinstance(window, JSONResponse):
        return window
    offset, limit = window
    return rows[offset : offset + limit]


def _paged_query(db: SimDb, sql: str, args: list[Any], request: Request) -> list[dict[str, Any]] | JSONResponse:
    """The query's rows in the request's Offset/Limit window, paged in SQL."""
    window = _window(request)
    if isinstance(window, JSONResponse):
        return window
    offset, limit = window
    return db.query(f"{sql} LIMIT ? OFFSET ?", [*args, limit, offset])


def _where(filters: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """`(" AND col OP ?", args)` for the filters that were given (value not None)."""
    given = [(sql, v) for sql, v in filters if v not in (None, "")]
    return "".join(f" AND {sql}" for sql, _ in given), [v for _, v in given]


def create_app(db: SimDb, settings: SimSettings | None = None, faults: FaultState | None = None) -> Any:
    settings = settings or SimSettings()
    faults = faults or FaultState()
    api = FastAPI(title="Open Dental API simulator (golive) - NOT Open Dental",
                  description="A simulator of the documented Open Dental REST API subset; fake data only.")

    def version() -> Version:
        return Version.parse(settings.version)

    def known(request: Request, name: str, row_key: tuple[str, str]) -> str | None:
        """A query parameter, or None when this version predates it (an older server knows nothing of it)."""
        added = PARAMS_ADDED.get(row_key, {}).get(name)
        if added and not version().at_least(added):
            return None
        return request.query_params.get(name) or None

    @api.middleware("http")
    async def documented_gates(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if not path.startswith("/api/v1/"):
            return await call_next(request)  # type: ignore[no-any-return]
        expected = f"ODFHIR {settings.developer_key}/{settings.customer_key}"
        if request.headers.get("authorization", "") != expected:
            return _explain(401, "Invalid Authorization header. Format: ODFHIR DeveloperKey/CustomerKey.")
        if not settings.api_enabled:
            return _explain(401, "The API is not enabled for this customer (Setup > Advanced Setup > API).")
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            return _explain(400, "Content-Type header must be application/json.")
        row = match(request.method, path.removeprefix("/api/v1"))
        if row is None:
            return _explain(404, "The specified API resource does not exist.")
        if row.name in settings.gone:
            return _explain(410, "The specified API resource has been deprecated.")
        if not version().at_least(row.version):
            return _explain(400, f"The version of the dental office is not high enough to use the specified API "
                                 f"method ({row.name}: version {row.added}; this office runs {settings.version}).")
        return await call_next(request)  # type: ignore[no-any-return]

    # -- reads ---------------------------------------------------------------------------------
    @api.get("/api/v1/preferences")  # apipreferences.html, "Preferences GET"
    def preferences(request: Request, PrefName: str = "") -> Any:
        rows = [{"PrefNum": i + 1, "PrefName": name, "ValueString": value if value is not None else settings.version}
                for i, (name, value) in enumerate(PREFERENCES)]
        return _json(_page([p for p in rows if not PrefName or p["PrefName"] == PrefName], request))

    def _patient_row(r: dict[str, Any], *, simple: bool) -> dict[str, Any]:
        """apipatients.html example rows ("Patients GET (single)"; "Patients GET Simple" adds serverDateTime
        first). Fields the simulator does not model are blank, as a sparse real record's are."""
        out: dict[str, Any] = {"serverDateTime": now_text()} if simple else {}
        out |= {"PatNum": r["PatNum"], "LName": r["LName"], "FName": r["FName"], "MiddleI": "", "Preferred": "",
                "PatStatus": r["PatStatus"], "Gender": {"M": "Male", "F": "Female"}.get(r["Gender"], "Unknown"),
                "Position": "Single", "Birthdate": r["Birthdate"], "SSN": r["SSN"], "Address": "", "Address2": "",
                "City": "", "State": "", "Zip": "", "HmPhone": "", "WkPhone": "", "WirelessPhone": "",
                "Guarantor": r["PatNum"], "Email": "", "EstBalance": 0.0, "PriProv": r["PriProv"],
                "priProvAbbr": "DOC1", "SecProv": 0, "secProvAbbr": "", "FeeSched": 0,
                "BillingType": "Standard Account", "ImageFolder": f"{r['LName']}{r['FName']}{r['PatNum']}",
                "FamFinUrgNote": "", "ChartNumber": "", "MedicaidID": "", "BalTotal": 0.0, "EmployerNum": 0,
                "DateFirstVisit": "0001-01-01", "ClinicNum": r["ClinicNum"], "clinicAbbr": "", "Premed": "false",
                "Ward": "", "PreferConfirmMethod": "None", "PreferContactMethod": "None",
                "PreferRecallMethod": "None", "Language": "", "AdmitDate": "0001-01-01", "siteDesc": "",
                "DateTStamp": r["DateTStamp"], "SuperFamily": 0, "TxtMsgOk": "Unknown",
                "SecDateEntry": r["SecDateEntry"]}
        return out

    @api.get("/api/v1/patients/Simple")  # apipatients.html, "Patients GET Simple": all parameters optional
    def patients_simple(request: Request) -> Any:
        q = request.query_params
        status = q.get("PatStatus")
        if status and status not in ("Patient", "NonPatient", "Inactive", "Archived", "Deceased", "Prospective"):
            return _explain(400, "PatStatus is invalid.")
        where, args = _where([("LName LIKE ?", f"%{q['LName']}%" if q.get("LName") else None),
                              ("FName LIKE ?", f"%{q['FName']}%" if q.get("FName") else None),
                              ("Birthdate = ?", q.get("Birthdate")), ("PatStatus = ?", status),
                              ("ClinicNum = ?", q.get("ClinicNum")), ("DateTStamp >= ?", q.get("DateTStamp"))])
        page = _paged_query(db, f"SELECT * FROM patient WHERE 1=1{where} ORDER BY PatNum", args, request)
        return page if isinstance(page, JSONResponse) else JSONResponse([_patient_row(r, simple=True) for r in page])

    @api.get("/api/v1/patients/{pat_num}")  # apipatients.html, "Patients GET (single)"
    def patient(pat_num: int) -> Any:
        rows = db.query("SELECT * FROM patient WHERE PatNum = ?", (pat_num,))
        return JSONResponse(_patient_row(rows[0], simple=False)) if rows else _explain(404, "Patient not found.")

    def _by_patient(table: str, request: Request, required: bool) -> Any:
        pat = request.query_params.get("PatNum", "")
        if required and not pat.isdigit():
            return _explain(400, "PatNum is required.")
        where, args = _where([("PatNum = ?", int(pat) if pat.isdigit() else None)])
        return _paged_query(db, f"SELECT * FROM {table} WHERE 1=1{where} ORDER BY 1", args, request)

    @api.get("/api/v1/allergies")  # apiallergies.html, "Allergies GET": PatNum required
    def allergies(request: Request) -> Any:
        page = _by_patient("allergy", request, required=True)
        return page if isinstance(page, JSONResponse) else JSONResponse([
            {"AllergyNum": r["AllergyNum"], "AllergyDefNum": r["AllergyDefNum"], "PatNum": r["PatNum"],
             "defDescription": "Penicillin", "defSnomedType": "None", "Reaction": r["Reaction"],
             "StatusIsActive": r["StatusIsActive"], "DateAdverseReaction": "0001-01-01"} for r in page])

    @api.get("/api/v1/medicationpats")  # apimedicationpats.html, "MedicationPats GET"
    def medicationpats(request: Request) -> Any:
        page = _by_patient("medicationpat", request, required=True)
        return page if isinstance(page, JSONResponse) else JSONResponse([
            {"MedicationPatNum": r["MedicationPatNum"], "PatNum": str(r["PatNum"]), "medName": "Metformin",
             "MedicationNum": r["MedicationNum"], "PatNote": r["PatNote"], "DateStart": "0001-01-01",
             "DateStop": "0001-01-01", "ProvNum": 1} for r in page])

    @api.get("/api/v1/patplans")  # apipatplans.html, "PatPlans GET": parameters all optional
    def patplans(request: Request) -> Any:
        q = request.query_params
        where, args = _where([("PatNum = ?", q.get("PatNum")), ("InsSubNum = ?", q.get("InsSubNum"))])
        page = _paged_query(db, f"SELECT * FROM patplan WHERE 1=1{where} ORDER BY PatPlanNum", args, request)
        return page if isinstance(page, JSONResponse) else JSONResponse([
            {"PatPlanNum": r["PatPlanNum"], "PatNum": r["PatNum"], "Ordinal": r["Ordinal"], "IsPending": "false",
             "Relationship": r["Relationship"], "PatID": "", "InsSubNum": r["InsSubNum"],
             "OrthoAutoFeeBilledOverride": -1.0, "OrthoAutoNextClaimDate": "0001-01-01",
             "SecDateTEntry": "2024-01-01 00:00:00", "SecDateTEdit": "2024-01-01 00:00:00"} for r in page])

    @api.get("/api/v1/procedurelogs")  # apiprocedurelogs.html, "ProcedureLogs GET (multiple)": all optional
    def procedurelogs(request: Request) -> Any:
        key = ("GET", "/procedurelogs")
        q = request.query_params
        where, args = _where([("l.PatNum = ?", q.get("PatNum")), ("l.ClinicNum = ?", q.get("ClinicNum")),
                              ("l.DateTStamp >= ?", q.get("DateTStamp")),
                              ("l.ProcStatus = ?", known(request, "ProcStatus", key)),
                              ("l.CodeNum = ?", known(request, "CodeNum", key))])
        page = _paged_query(db, "SELECT l.*, c.ProcCode FROM procedurelog l JOIN procedurecode c ON c.CodeNum ="
                            f" l.CodeNum WHERE 1=1{where} ORDER BY l.ProcNum", args, request)
        server = now_text()
        # `descript` is documented; the simulator leaves it blank: CDT descriptions are ADA-licensed.
        return page if isinstance(page, JSONResponse) else JSONResponse([
            {"ProcNum": r["ProcNum"], "PatNum": r["PatNum"], "AptNum": 0, "ProcDate": r["ProcDate"],
             "ProcFee": r["ProcFee"], "Surf": "", "ToothNum": r["ToothNum"], "ToothRange": "", "Priority": 0,
             "priority": "", "ProcStatus": r["ProcStatus"], "ProvNum": r["ProvNum"], "provAbbr": "DOC1", "Dx": 0,
             "dxName": "", "PlannedAptNum": 0, "PlaceService": "Office", "Prosthesis": "",
             "DateOriginalProsth": "0001-01-01", "ClaimNote": "", "DateEntryC": r["DateTP"],
             "ClinicNum": r["ClinicNum"], "CodeNum": r["CodeNum"], "procCode": r["ProcCode"], "descript": "",
             "UnitQty": 1, "BaseUnits": 0, "DateTP": r["DateTP"], "SiteNum": 0, "HideGraphics": "false",
             "CanadianTypeCodes": "", "ProcTime": "00:00:00", "ProcTimeEnd": "00:00:00",
             "DateTStamp": r["DateTStamp"], "Prognosis": 0, "IsLocked": "false", "BillingNote": "",
             "Discount": 0.0, "IsDateProsthEst": "false", "SecDateEntry": r["SecDateEntry"],
             "serverDateTime": server} for r in page])

    @api.get("/api/v1/procedurecodes")  # apiprocedurecodes.html, "ProcedureCodes GET (multiple)"
    def procedurecodes(request: Request) -> Any:
        where, args = _where([("DateTStamp >= ?", known(request, "DateTStamp", ("GET", "/procedurecodes")))])
        page = _paged_query(db, f"SELECT * FROM procedurecode WHERE 1=1{where} ORDER BY CodeNum", args, request)
        # Real Open Dental returns Descript/AbbrDesc; the simulator ships no ADA descriptions.
        return page if isinstance(page, JSONResponse) else JSONResponse([
            {"CodeNum": r["CodeNum"], "ProcCode": r["ProcCode"], "Descript": "", "AbbrDesc": "", "ProcTime": "/X/",
             "ProcCat": r["ProcCat"], "procCat": PROC_CATS.get(r["ProcCat"], ""), "TreatArea": "Mouth",
             "NoBillIns": "false", "IsProsth": "false", "DefaultNote": "", "IsHygiene": "false",
             "DateTStamp": r["DateTStamp"]} for r in page])

    def _plan_row(r: dict[str, Any]) -> dict[str, Any]:
        """apitreatplans.html example rows. DateTSigned (when the patient signed: accepted) is a
        documented field of the TreatPlans GET response; the metrics collectors read it."""
        return {"TreatPlanNum": r["TreatPlanNum"], "PatNum": r["PatNum"], "DateTP": r["DateTP"],
                "Heading": r["Heading"], "Note": r["Note"], "SigIsTopaz": "false", "ResponsParty": 0, "DocNum": 0,
                "TPStatus": r["TPStatus"], "SecUserNumEntry": 0, "SecDateEntry": r["SecDateEntry"],
                "SecDateTEdit": r["SecDateTEdit"], "UserNumPresenter": 0, "TPType": r["TPType"],
                "DateTSigned": r.get("DateTSigned") or "0001-01-01 00:00:00", "DateTPracticeSigned": "0001-01-01 00:00:00",
                "SignatureText": "", "SignaturePracticeText": "", "isSigned": "false", "isSignedPractice": "false"}

    @api.get("/api/v1/treatplans")  # apitreatplans.html, "TreatPlans GET": all optional
    def treatplans(request: Request) -> Any:
        q = request.query_params
        status = q.get("TPStatus")
        if status and status not in ("Saved", "Active", "Inactive"):
            return _explain(400, "TPStatus must be Saved, Active or Inactive.")
        where, args = _where([("PatNum = ?", q.get("PatNum")), ("TPStatus = ?", status),
                              ("SecDateTEdit > ?", q.get("SecDateTEdit"))])
        page = _paged_query(db, f"SELECT * FROM treatplan WHERE 1=1{where} ORDER BY TreatPlanNum", args, request)
        return page if isinstance(page, JSONResponse) else JSONResponse([_plan_row(r) for r in page])

    def _attach_row(r: dict[str, Any]) -> dict[str, Any]:
        return {"TreatPlanAttachNum": r["TreatPlanAttachNum"], "TreatPlanNum": r["TreatPlanNum"],
                "ProcNum": r["ProcNum"], "Priority": r["Priority"], "priority": ""}

    @api.get("/api/v1/treatplanattaches")  # apitreatplanattaches.html, "TreatPlanAttaches GET"
    def treatplanattaches(request: Request) -> Any:
        num = request.query_params.get("TreatPlanNum", "")
        if not num.isdigit():
            return _explain(400, "TreatPlanNum is required.")
        if not db.query("SELECT 1 FROM treatplan WHERE TreatPlanNum = ?", (int(num),)):
            return _explain(404, "TreatPlan not found.")
        page = _paged_query(db, "SELECT * FROM treatplanattach WHERE TreatPlanNum = ? ORDER BY TreatPlanAttachNum",
                            [int(num)], request)
        return page if isinstance(page, JSONResponse) else JSONResponse([_attach_row(r) for r in page])

    def _file_path(doc: dict[str, Any], folder: str) -> str:
        if settings.storage == "InDatabase":
            return ""
        return f"\\\\server\\OpenDentImages\\{folder[:1].upper()}\\{folder}\\{doc['FileName']}"

    @api.get("/api/v1/documents")  # apidocuments.html, "Documents GET (multiple)": documents and mounts
    def documents(request: Request) -> Any:
        pat = request.query_params.get("PatNum", "")
        if not pat.isdigit():
            return _explain(400, "PatNum is required")
        pats = db.query("SELECT * FROM patient WHERE PatNum = ?", (int(pat),))
        if not pats:
            return _explain(404, "Patient not found")
        folder = f"{pats[0]['LName']}{pats[0]['FName']}{pat}"
        server = now_text()
        docs = [{"DocNum": d["DocNum"], "MountNum": 0, "filePath": _file_path(d, folder),
                 "Description": d["Description"], "PatNum": str(d["PatNum"]), "Note": d["Note"],
                 "DateCreated": d["DateCreated"], "docCategory": DOC_CATEGORIES.get(d["DocCategory"], ""),
                 "DocCategory": d["DocCategory"], "ToothNumbers": d["ToothNumbers"], "ProvNum": "0",
                 "PrintHeading": "false", "DateTStamp": d["DateTStamp"], "serverDateTime": server}
                for d in db.query("SELECT * FROM document WHERE PatNum = ?", (int(pat),))]
        # "Mounts do not have a filePath, ToothNumbers, PrintHeading, or a DateTStamp."
        mounts = [{"DocNum": 0, "MountNum": m["MountNum"], "filePath": "", "Description": m["Description"],
                   "PatNum": str(m["PatNum"]), "Note": m["Note"], "DateCreated": m["DateCreated"],
                   "docCategory": DOC_CATEGORIES.get(m["DocCategory"], ""), "DocCategory": m["DocCategory"],
                   "ToothNumbers": "", "ProvNum": "0", "PrintHeading": "", "DateTStamp": "", "serverDateTime": server}
                  for m in db.query("SELECT * FROM mount WHERE PatNum = ?", (int(pat),))]
        return _json(_page(sorted(docs + mounts, key=lambda r: r["DateCreated"]), request))  # "ordered by DateCreated"

    def _document_row(d: dict[str, Any]) -> dict[str, Any]:
        """apidocuments.html, "Documents GET (single)" and the Upload response: FileName and ImgType."""
        return {"DocNum": d["DocNum"], "Description": d["Description"], "DateCreated": d["DateCreated"],
                "DocCategory": d["DocCategory"], "docCategory": DOC_CATEGORIES.get(d["DocCategory"], ""),
                "PatNum": d["PatNum"], "FileName": d["FileName"], "ImgType": d["ImgType"],
                "ToothNumbers": d["ToothNumbers"], "DateTStamp": d["DateTStamp"], "ProvNum": 0,
                "PrintHeading": "false"}

    @api.get("/api/v1/documents/{doc_num}")  # apidocuments.html, "Documents GET (single)"
    def document(doc_num: int) -> Any:
        rows = db.query("SELECT * FROM document WHERE DocNum = ?", (doc_num,))
        return JSONResponse(_document_row(rows[0])) if rows else _explain(404, "Document not found.")

    # -- writes --------------------------------------------------------------------------------
    async def _body(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _explain(400, "The request body is not valid JSON.")
        return body if isinstance(body, dict) else _explain(400, "The request body must be a JSON object.")

    @api.post("/api/v1/treatplans")  # apitreatplans.html, "TreatPlans POST (create)": an inactive plan
    async def create_treatplan(request: Request) -> Any:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        pat = body.get("PatNum")
        if not isinstance(pat, int):
            return _explain(400, "PatNum is required.")
        if not db.query("SELECT 1 FROM patient WHERE PatNum = ?", (pat,)):
            return _explain(404, "Patient not found.")
        tp_type = str(body.get("TPType", "Insurance"))
        if tp_type not in ("Insurance", "Discount"):
            return _explain(400, "TPType must be Insurance or Discount.")
        stamp = now_text()
        note = str(body["Note"]) if "Note" in body else PREFERENCES[1][1]
        num = db.execute(
            "INSERT INTO treatplan (PatNum, DateTP, Heading, Note, TPStatus, TPType, SecDateEntry, SecDateTEdit)"
            " VALUES (?, '0001-01-01', ?, ?, 'Inactive', ?, ?, ?)",
            (pat, str(body.get("Heading", "Inactive Treatment Plan")), note, tp_type, stamp[:10], stamp))
        row = db.query("SELECT * FROM treatplan WHERE TreatPlanNum = ?", (num,))[0]
        return JSONResponse(_plan_row(row), status_code=201, headers={"Location": f"/api/v1/treatplans/{num}"})

    @api.delete("/api/v1/treatplans/{num}")  # apitreatplans.html, "TreatPlans DELETE"
    def delete_treatplan(num: int) -> Any:
        if not db.query("SELECT 1 FROM treatplan WHERE TreatPlanNum = ?", (num,)):
            return _explain(404, "TreatPlan not found.")
        # The page does not say what becomes of the plan's treatplanattaches (the table has no DELETE);
        # the simulator removes them with the plan: not verified against the documentation.
        db.execute("DELETE FROM treatplanattach WHERE TreatPlanNum = ?", (num,))
        db.execute("DELETE FROM treatplan WHERE TreatPlanNum = ?", (num,))
        return Response(status_code=200)

    @api.post("/api/v1/treatplanattaches")  # apitreatplanattaches.html, "TreatPlanAttaches POST"
    async def create_attach(request: Request) -> Any:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        plan, proc = body.get("TreatPlanNum"), body.get("ProcNum")
        if not isinstance(plan, int) or not isinstance(proc, int):
            return _explain(400, "TreatPlanNum and ProcNum are required.")
        plans = db.query("SELECT PatNum FROM treatplan WHERE TreatPlanNum = ?", (plan,))
        if not plans:
            return _explain(404, "TreatPlan not found.")
        procs = db.query("SELECT PatNum FROM procedurelog WHERE ProcNum = ?", (proc,))
        if not procs:
            return _explain(404, "Procedure not found.")
        if procs[0]["PatNum"] != plans[0]["PatNum"]:
            return _explain(400, "The procedure belongs to another patient.")
        num = db.execute("INSERT INTO treatplanattach (TreatPlanNum, ProcNum, Priority) VALUES (?, ?, ?)",
                         (plan, proc, int(body.get("Priority", 0) or 0)))
        row = db.query("SELECT * FROM treatplanattach WHERE TreatPlanAttachNum = ?", (num,))[0]
        return JSONResponse(_attach_row(row), status_code=201)

    @api.post("/api/v1/documents/Upload")  # apidocuments.html, "Documents POST Upload"
    async def upload_document(request: Request) -> Any:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        pat, raw, ext = body.get("PatNum"), body.get("rawBase64"), str(body.get("extension", ""))
        if not isinstance(pat, int) or not isinstance(raw, str) or not ext.startswith("."):
            return _explain(400, "PatNum, rawBase64 and extension (starting with a period) are required.")
        try:
            base64.b64decode(raw, validate=True)
        except ValueError:
            return _explain(400, "rawBase64 is not valid base64.")
        if not db.query("SELECT 1 FROM patient WHERE PatNum = ?", (pat,)):
            return _explain(404, "Patient not found.")
        cat = int(body.get("DocCategory") or min(DOC_CATEGORIES))  # "Default is first in DocCategory"
        if cat not in DOC_CATEGORIES:
            return _explain(400, "DocCategory is invalid.")
        img = str(body.get("ImgType", "Document"))  # "Default is Document"
        if img not in ("Document", "Radiograph", "Photo", "File", "Attachment"):
            return _explain(400, "ImgType is invalid.")
        stamp = now_text()
        num = db.execute(
            "INSERT INTO document (PatNum, FileName, Description, DocCategory, ImgType, DateCreated, DateTStamp,"
            " ToothNumbers, Note, RawBase64) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?)",
            (pat, f"upload{ext}", str(body.get("Description", "")), cat, img, stamp, stamp, raw))
        row = db.query("SELECT * FROM document WHERE DocNum = ?", (num,))[0]
        return JSONResponse(_document_row(row), status_code=201)

    @api.delete("/api/v1/documents/{num}")  # apidocuments.html, "Documents DELETE"
    def delete_document(num: int) -> Any:
        if not db.query("SELECT 1 FROM document WHERE DocNum = ?", (num,)):
            return _explain(404, "Document not found.")
        db.execute("DELETE FROM document WHERE DocNum = ?", (num,))
        return Response(status_code=200)

    # -- simulator controls (not part of Open Dental) --------------------------------------------
    @api.get("/_sim/status")
    def sim_status() -> Any:
        return {"simulator": SIMULATOR_NAME, "settings": asdict(settings) | {"developer_key": "***",
                "customer_key": "***"}, "faults": asdict(faults.config), "stats": asdict(faults.stats),
                "counts": db.counts(), "routes": [r.name for r in ROUTES]}

    @api.post("/_sim/config")
    async def sim_config(request: Request) -> Any:
        body = json.loads(await request.body() or b"{}")
        for key in ("version", "api_enabled", "storage", "gone"):
            if key in body:
                setattr(settings, key, body.pop(key))
        try:
            faults.configure(**body)
        except (KeyError, ValueError) as exc:
            return _explain(400, f"unknown or invalid fault setting: {exc}")
        return sim_status()

    @api.post("/_sim/reset")
    def sim_reset() -> Any:
        db.reset()
        return sim_status()

    @api.get("/_sim/treatplans")
    def sim_treatplans() -> Any:
        return db.query("SELECT TreatPlanNum, PatNum, Note, TPStatus FROM treatplan ORDER BY TreatPlanNum")

    @api.get("/_sim/treatplanattaches")
    def sim_attaches() -> Any:
        return db.query("SELECT TreatPlanNum, ProcNum FROM treatplanattach ORDER BY TreatPlanAttachNum")

    @api.post("/_sim/touch/{pat_num}")
    def sim_touch(pat_num: int) -> Any:
        """Simulate a front-desk edit (DateTStamp becomes the server's now)."""
        db.execute("UPDATE patient SET DateTStamp = ? WHERE PatNum = ?", (now_text(), pat_num))
        return {"touched": pat_num}

    return FaultInjector(api, faults)
