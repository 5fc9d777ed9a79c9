"""The simulator's routes: the Open Dental API subset golive uses, as its documentation describes it.

Versions gate routes as documented: TreatPlans and TreatPlanAttaches GET from 22.4.16; TreatPlanAttaches
POST from 23.2.17 (routes newer than the configured version answer 404 with an explanation).
`/_sim/*` are simulator-only controls (faults, version, counters, raw rows) and bypass faults.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from golive.tasks.pms.simulator import SIMULATOR_NAME
from golive.tasks.pms.simulator.db import DOC_CATEGORIES, SimDb, now_text
from golive.tasks.pms.simulator.faults import FaultInjector, FaultState

MAX_LIMIT = 100
VERSION_ADDED = {
    ("GET", "treatplans"): "22.4.16",
    ("POST", "treatplans"): "22.4.16",
    ("DELETE", "treatplans"): "22.4.16",
    ("GET", "treatplanattaches"): "22.4.16",
    ("POST", "treatplanattaches"): "23.2.17",
}


@dataclass
class SimSettings:
    version: str = "23.3.8.0"
    developer_key: str = "sim-developer-key"
    customer_key: str = "sim-customer-key"
    api_enabled: bool = True


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def _explain(status: int, text: str) -> JSONResponse:
    return JSONResponse(text, status_code=status)


def _window(request: Request) -> tuple[int, int] | JSONResponse:
    """(Offset, Limit) from the query; Limit is capped at 100 as documented."""
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


def create_app(db: SimDb, settings: SimSettings | None = None, faults: FaultState | None = None) -> Any:
    settings = settings or SimSettings()
    faults = faults or FaultState()
    api = FastAPI(title="Open Dental API simulator (golive) - NOT Open Dental",
                  description="A simulator of the documented Open Dental REST API subset; fake data only.")

    @api.middleware("http")
    async def authorize(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path.startswith("/api/v1/"):
            expected = f"ODFHIR {settings.developer_key}/{settings.customer_key}"
            if request.headers.get("authorization", "") != expected:
                return _explain(401, "Invalid Authorization header. Format: ODFHIR DeveloperKey/CustomerKey.")
            if not settings.api_enabled:
                return _explain(401, "The API is not enabled for this customer (Setup > Advanced Setup > API).")
            resource = path.removeprefix("/api/v1/").split("/")[0]
            added = VERSION_ADDED.get((request.method, resource))
            if added and _v(settings.version) < _v(added):
                return _explain(404, f"{request.method} {resource} is not available in version "
                                     f"{settings.version}; it was added in {added}.")
        return await call_next(request)

    # -- reads ---------------------------------------------------------------------------------
    @api.get("/api/v1/preferences")
    def preferences(PrefName: str = "") -> Any:
        prefs = [{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": settings.version}]
        return [p for p in prefs if not PrefName or p["PrefName"] == PrefName]

    def _patient_out(row: dict[str, Any]) -> dict[str, Any]:
        out = {k: row[k] for k in ("PatNum", "LName", "FName", "Birthdate", "Gender", "PatStatus", "SSN",
                                   "DateTStamp")}
        out["Gender"] = {"M": "Male", "F": "Female"}.get(out["Gender"], "Unknown")
        out["serverDateTime"] = now_text()
        return out

    @api.get("/api/v1/patients")
    def patients(request: Request, DateTStamp: str = "") -> Any:
        window = _window(request)
        if isinstance(window, JSONResponse):
            return window
        offset, limit = window
        rows = db.query("SELECT * FROM patient WHERE DateTStamp >= ? ORDER BY PatNum LIMIT ? OFFSET ?",
                        (DateTStamp, limit, offset))
        return [_patient_out(r) for r in rows]

    @api.get("/api/v1/patients/{pat_num}")
    def patient(pat_num: int) -> Any:
        rows = db.query("SELECT * FROM patient WHERE PatNum = ?", (pat_num,))
        return _patient_out(rows[0]) if rows else _explain(404, "Patient not found.")

    def _by_patient(table: str, request: Request) -> Any:
        pat = request.query_params.get("PatNum", "")
        if not pat.isdigit():
            return _explain(400, "PatNum is required.")
        return _page(db.query(f"SELECT * FROM {table} WHERE PatNum = ?", (int(pat),)), request)

    @api.get("/api/v1/allergies")
    def allergies(request: Request) -> Any:
        return _by_patient("allergy", request)

    @api.get("/api/v1/medicationpats")
    def medicationpats(request: Request) -> Any:
        return _by_patient("medicationpat", request)

    @api.get("/api/v1/patplans")
    def patplans(request: Request) -> Any:
        return _by_patient("patplan", request)

    @api.get("/api/v1/procedurelogs")
    def procedurelogs(request: Request) -> Any:
        pat = request.query_params.get("PatNum", "")
        if not pat.isdigit():
            return _explain(400, "PatNum is required.")
        rows = db.query(
            "SELECT l.ProcNum, l.PatNum, l.ProcDate, l.ProcStatus, l.CodeNum, c.ProcCode AS procCode, l.ToothNum,"
            " l.DateTStamp FROM procedurelog l JOIN procedurecode c ON c.CodeNum = l.CodeNum"
            " WHERE l.PatNum = ? ORDER BY l.ProcNum", (int(pat),))
        return _page(rows, request)

    @api.get("/api/v1/procedurecodes")
    def procedurecodes(request: Request) -> Any:
        rows = db.query("SELECT CodeNum, ProcCode FROM procedurecode ORDER BY CodeNum")
        page = _page(rows, request)
        if isinstance(page, JSONResponse):
            return page
        # Real Open Dental returns Descript/AbbrDesc; the simulator ships no ADA descriptions.
        return [{**r, "Descript": "", "AbbrDesc": ""} for r in page]

    @api.get("/api/v1/treatplans")
    def treatplans(request: Request, PatNum: int = 0, TPStatus: str = "") -> Any:
        sql, args = "SELECT * FROM treatplan WHERE 1=1", list[Any]()
        if PatNum:
            sql, args = sql + " AND PatNum = ?", [*args, PatNum]
        if TPStatus:
            if TPStatus not in ("Saved", "Active", "Inactive"):
                return _explain(400, "TPStatus must be Saved, Active or Inactive.")
            sql, args = sql + " AND TPStatus = ?", [*args, TPStatus]
        return _page(db.query(sql + " ORDER BY TreatPlanNum", args), request)

    @api.get("/api/v1/treatplanattaches")
    def treatplanattaches(request: Request) -> Any:
        num = request.query_params.get("TreatPlanNum", "")
        if not num.isdigit():
            return _explain(400, "TreatPlanNum is required.")
        if not db.query("SELECT 1 FROM treatplan WHERE TreatPlanNum = ?", (int(num),)):
            return _explain(404, "TreatPlan not found.")
        return _page(db.query("SELECT * FROM treatplanattach WHERE TreatPlanNum = ? ORDER BY TreatPlanAttachNum",
                              (int(num),)), request)

    @api.get("/api/v1/documents")
    def documents(request: Request) -> Any:
        page = _by_patient("document", request)
        if isinstance(page, JSONResponse):
            return page
        return [{k: v for k, v in r.items() if k != "RawBase64"} | {"docCategory": DOC_CATEGORIES.get(
            r["DocCategory"], "")} for r in page]

    # -- writes --------------------------------------------------------------------------------
    async def _body(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _explain(400, "The request body is not valid JSON.")
        return body if isinstance(body, dict) else _explain(400, "The request body must be a JSON object.")

    @api.post("/api/v1/treatplans")
    async def create_treatplan(request: Request) -> Any:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        pat = body.get("PatNum")
        if not isinstance(pat, int):
            return _explain(400, "PatNum is required.")
        if not db.query("SELECT 1 FROM patient WHERE PatNum = ?", (pat,)):
            return _explain(400, "PatNum is invalid.")
        stamp = now_text()
        num = db.execute(
            "INSERT INTO treatplan (PatNum, DateTP, Heading, Note, TPStatus, TPType, SecDateTEdit)"
            " VALUES (?, ?, ?, ?, 'Inactive', 'Insurance', ?)",
            (pat, stamp[:10], str(body.get("Heading", "Inactive Treatment Plan")), str(body.get("Note", "")), stamp))
        row = db.query("SELECT * FROM treatplan WHERE TreatPlanNum = ?", (num,))[0]
        return JSONResponse(row, status_code=201, headers={"Location": f"/api/v1/treatplans/{num}"})

    @api.delete("/api/v1/treatplans/{num}")
    def delete_treatplan(num: int) -> Any:
        rows = db.query("SELECT TPStatus FROM treatplan WHERE TreatPlanNum = ?", (num,))
        if not rows:
            return _explain(404, "TreatPlan not found.")
        if rows[0]["TPStatus"] == "Active":
            return _explain(400, "Active treatment plans cannot be deleted.")
        db.execute("DELETE FROM treatplanattach WHERE TreatPlanNum = ?", (num,))
        db.execute("DELETE FROM treatplan WHERE TreatPlanNum = ?", (num,))
        return Response(status_code=200)

    @api.post("/api/v1/treatplanattaches")
    async def create_attach(request: Request) -> Any:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        plan, proc = body.get("TreatPlanNum"), body.get("ProcNum")
        if not isinstance(plan, int) or not isinstance(proc, int):
            return _explain(400, "TreatPlanNum and ProcNum are required.")
        plans = db.query("SELECT PatNum FROM treatplan WHERE TreatPlanNum = ?", (plan,))
        if not plans:
            return _explain(400, "TreatPlanNum is invalid.")
        procs = db.query("SELECT PatNum, ProcStatus FROM procedurelog WHERE ProcNum = ?", (proc,))
        if not procs or procs[0]["PatNum"] != plans[0]["PatNum"]:
            return _explain(400, "ProcNum is invalid or belongs to another patient.")
        if procs[0]["ProcStatus"] not in ("TP", "TPi"):
            return _explain(400, "Only treatment-planned procedures can be attached.")
        num = db.execute("INSERT INTO treatplanattach (TreatPlanNum, ProcNum, Priority) VALUES (?, ?, ?)",
                         (plan, proc, int(body.get("Priority", 0) or 0)))
        return JSONResponse(db.query("SELECT * FROM treatplanattach WHERE TreatPlanAttachNum = ?", (num,))[0],
                            status_code=201)

    @api.post("/api/v1/documents/Upload")
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
            return _explain(400, "PatNum is invalid.")
        cat = int(body.get("DocCategory") or 100)  # none given: the first image category, as Open Dental does
        if cat not in DOC_CATEGORIES:
            return _explain(400, "DocCategory is invalid.")
        num = db.execute(
            "INSERT INTO document (PatNum, FileName, Description, DocCategory, ImgType, DateCreated, RawBase64)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pat, f"upload{ext}", str(body.get("Description", "")), cat, str(body.get("ImgType", "Photo")),
             now_text(), raw))
        row = db.query("SELECT * FROM document WHERE DocNum = ?", (num,))[0]
        row.pop("RawBase64")
        return JSONResponse(row | {"docCategory": DOC_CATEGORIES[cat]}, status_code=201)

    @api.delete("/api/v1/documents/{num}")
    def delete_document(num: int) -> Any:
        if not db.query("SELECT 1 FROM document WHERE DocNum = ?", (num,)):
            return _explain(404, "Document not found.")
        db.execute("DELETE FROM document WHERE DocNum = ?", (num,))
        return Response(status_code=200)

    # -- simulator controls (not part of Open Dental) --------------------------------------------
    @api.get("/_sim/status")
    def sim_status() -> Any:
        return {"simulator": SIMULATOR_NAME, "settings": asdict(settings) | {"developer_key": "***",
                "customer_key": "***"}, "faults": asdict(faults.config), "stats": asdict(faults.stats)}

    @api.post("/_sim/config")
    async def sim_config(request: Request) -> Any:
        body = json.loads(await request.body() or b"{}")
        for key in ("version", "api_enabled"):
            if key in body:
                setattr(settings, key, body.pop(key))
        try:
            faults.configure(**body)
        except (KeyError, ValueError) as exc:
            return _explain(400, f"unknown or invalid fault setting: {exc}")
        return sim_status()

    @api.get("/_sim/treatplans")
    def sim_treatplans() -> Any:
        return db.query("SELECT TreatPlanNum, PatNum, Note, TPStatus FROM treatplan ORDER BY TreatPlanNum")

    @api.get("/_sim/treatplanattaches")
    def sim_attaches() -> Any:
        return db.query("SELECT TreatPlanNum, ProcNum FROM treatplanattach ORDER BY TreatPlanAttachNum")

    @api.post("/_sim/touch/{pat_num}")
    def sim_touch(pat_num: int) -> Any:
        """Simulate a front-desk edit (bumps DateTStamp) so tests can show the change-stamp check fails."""
        db.execute("UPDATE patient SET DateTStamp = ? WHERE PatNum = ?", ("2099-01-01 00:00:00", pat_num))
        return {"touched": pat_num}

    return FaultInjector(api, faults)
