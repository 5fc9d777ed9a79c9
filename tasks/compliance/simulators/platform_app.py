"""The AI platform's patient-data API, SIMULATED for the deletion-on-request workflow (FastAPI).

The vendor publishes no API documentation that could be cited here, so this models what a careful
reading of HTTP semantics gives, and nothing vendor-specific: a patient resource keyed by the
group's own reference, its imaging studies, a search over studies, and asynchronous deletion
requests. RFC 9110: DELETE-like erasure is requested with POST to a collection and answered
`202 Accepted` while it runs (section 15.3.3); a deleted resource answers `404 Not Found` (15.5.5).
Retried creations carry an `Idempotency-Key` header (IETF httpapi draft "The Idempotency-Key HTTP
Header Field"): the same key returns the same request. Authentication: a bearer token.

Faults for tests (`POST /_sim/config`): `keep_studies` (erasure leaves the studies behind),
`stale_search` (the search index still lists erased studies), `never_complete` (the request stays
pending). All data is in memory and synthetic; every response is marked `X-Golive-Simulator: platform`.
"""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from golive.tasks.compliance.simulators import SIMULATOR_HEADER


@dataclass
class Faults:
    keep_studies: bool = False
    stale_search: bool = False
    never_complete: bool = False
    polls_to_complete: int = 2  # status reads before a request completes (it is asynchronous)


@dataclass
class Deletion:
    id: str
    patient: str
    polls: int = 0
    status: str = "pending"
    completed_at: str | None = None


@dataclass
class PlatformState:
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    studies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    search_index: dict[str, list[str]] = field(default_factory=dict)  # patient -> study ids, as search sees them
    deletions: dict[str, Deletion] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={SIMULATOR_HEADER: "platform"})


def create_app(token: str, state: PlatformState | None = None) -> FastAPI:
    app = FastAPI(title="AI platform API SIMULATOR (golive tests; not the vendor's API)")
    st = state or PlatformState()
    ids = itertools.count(1)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith("/api/v1/") and request.url.path != "/api/v1/health":
            given = request.headers.get("authorization", "")
            if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())):
                return _json({"error": "unauthorized"}, 401)
        return await call_next(request)

    @app.get("/api/v1/health")
    def health() -> JSONResponse:
        return _json({"status": "ok", "simulator": True})

    @app.put("/api/v1/patients/{ref}")
    async def put_patient(ref: str, request: Request) -> JSONResponse:
        body = await request.json()
        created = ref not in st.patients
        st.patients[ref] = {"ref": ref, "test": bool(body.get("test", False))}
        st.studies.setdefault(ref, [])
        return _json(st.patients[ref], 201 if created else 200)

    @app.post("/api/v1/patients/{ref}/studies")
    async def add_study(ref: str, request: Request) -> JSONResponse:
        if ref not in st.patients:
            return _json({"error": "no such patient"}, 404)
        body = await request.json()
        study_id = f"study-{next(ids)}"
        study = {"id": study_id, "modality": str(body.get("modality", "CT")), "synthetic": True}
        st.studies[ref].append(study)
        st.search_index.setdefault(ref, []).append(study_id)
        return _json(study, 201)

    @app.get("/api/v1/patients/{ref}")
    def get_patient(ref: str) -> JSONResponse:
        if ref not in st.patients:
            return _json({"error": "no such patient"}, 404)
        return _json({**st.patients[ref], "studies": len(st.studies.get(ref, []))})

    @app.get("/api/v1/patients/{ref}/studies")
    def patient_studies(ref: str) -> JSONResponse:
        if ref not in st.patients and not st.studies.get(ref):
            return _json({"error": "no such patient"}, 404)
        return _json({"items": st.studies.get(ref, [])})

    @app.get("/api/v1/studies")
    def search(patient: str) -> JSONResponse:
        return _json({"items": [{"id": sid} for sid in st.search_index.get(patient, [])]})

    @app.post("/api/v1/deletion-requests")
    async def request_deletion(request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        if key and key in st.by_key:
            d = st.deletions[st.by_key[key]]
            return _json(_deletion(d), 200)
        body = await request.json()
        ref = str(body.get("patient", ""))
        if ref not in st.patients:
            return _json({"error": "no such patient"}, 404)
        d = Deletion(id=f"del-{next(ids)}", patient=ref)
        st.deletions[d.id] = d
        if key:
            st.by_key[key] = d.id
        return _json(_deletion(d), 202)

    @app.get("/api/v1/deletion-requests/{rid}")
    def deletion_status(rid: str) -> JSONResponse:
        d = st.deletions.get(rid)
        if d is None:
            return _json({"error": "no such request"}, 404)
        d.polls += 1
        if d.status == "pending" and not st.faults.never_complete and d.polls >= st.faults.polls_to_complete:
            _erase(st, d.patient)
            d.status, d.completed_at = "completed", datetime.now(UTC).isoformat()
        return _json(_deletion(d))

    @app.get("/_sim/status")
    def status() -> JSONResponse:
        return _json({"simulator": "platform API", "patients": len(st.patients),
                      "deletion_requests": len(st.deletions)})

    @app.post("/_sim/config")
    async def configure(request: Request) -> JSONResponse:
        body: Mapping[str, Any] = await request.json()
        for name, value in body.items():
            if not hasattr(st.faults, name):
                return _json({"error": f"unknown setting {name}"}, 400)
            setattr(st.faults, name, type(getattr(st.faults, name))(value))
        return _json(vars(st.faults))

    return app


def _deletion(d: Deletion) -> dict[str, Any]:
    return {"id": d.id, "status": d.status, "completed_at": d.completed_at}


def _erase(st: PlatformState, ref: str) -> None:
    st.patients.pop(ref, None)
    if not st.faults.keep_studies:
        st.studies.pop(ref, None)
    if not st.faults.stale_search:
        st.search_index.pop(ref, None)
