"""Open Dental connector over its documented REST API (`/api/v1`), as apiimplementation.html
describes it:

- Auth header `Authorization: ODFHIR {DeveloperKey}/{CustomerKey}`; "All API requests require a
  Content-Type header of application/json", so every request carries one, GET and DELETE included.
- Lists page with `Limit`/`Offset`, at most 100 rows a page; a short page ends the list.
- Every route comes from the route table (`routes.py`) and is gated on its "Version Added" before
  any call: a version too low is `PmsVersionTooLow`, and nothing is sent.
- Status codes are 200, 201, 400, 401, 404 and 410 (and 504 past the 60 s limit). 400 is read by
  its explanation: "not high enough" is a version refusal; eConnector and office-network trouble
  is transient and retried; anything else is a bad request. 410 means the route was deprecated.
- No 429 is documented: requests are paced on the client (`pacing.py`), one per 5 s by default.
  A 429 with Retry-After, should one come, still holds every later request back.
- Incremental patient sync goes through `Patients GET Simple` with DateTStamp; its rows carry
  `serverDateTime`, the start of the next sync.
- HTTPS only, except plain HTTP to a loopback host when `allow_insecure_local` is set (the simulator).

`iterate(path, params)` and `get(path, **ids)` are the general read API over any table route
(paged, paced, retried, version-gated); the typed methods below are built on them.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from golive.tasks.pms.pacing import Pacer
from golive.tasks.pms.protocol import (
    Access,
    Capabilities,
    ClinicalRecord,
    Document,
    Limit,
    Patient,
    PmsAuthError,
    PmsBadRequest,
    PmsConfigError,
    PmsGone,
    PmsNotFound,
    PmsRateLimited,
    PmsUnavailable,
    PmsUnreachable,
    PmsVersionTooLow,
    Procedure,
    ProcedureCode,
    TreatmentPlan,
    Version,
)
from golive.tasks.pms.retry import RetryPolicy, call, write_once
from golive.tasks.pms.routes import PARAMS_ADDED, Route, needed, route, with_undo

log = logging.getLogger(__name__)
_ID_SEGMENT = re.compile(r"/\d+(?=[/?\s\"]|$)")
# apiimplementation.html, "400 BadRequest": "The version of the dental office is not high enough".
_VERSION_400 = re.compile(r"not high enough", re.I)
# Same list: "eConnector issues" and "Network Issues - Request timeouts and other dental office
# connectivity issues". Their exact wording is not documented; these words cover what it names.
_TRANSIENT_400 = re.compile(r"econnector|time[ -]?out|timed out|network|connectivity|unreachable", re.I)


class _RedactRequestLine(logging.Filter):
    """httpx logs each request URL at INFO; drop query strings and record numbers (PatNum) from it."""

    _query = re.compile(r"\?[^\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = _ID_SEGMENT.sub("/{id}", self._query.sub("", msg))
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def _install_log_redaction() -> None:
    lg = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactRequestLine) for f in lg.filters):
        lg.addFilter(_RedactRequestLine())


MAX_PAGE = 100
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PREFERENCES = route("GET", "/preferences")
PATIENTS_SIMPLE = route("GET", "/patients/Simple")
PATIENT = route("GET", "/patients/{PatNum}")
PROCEDURELOGS = route("GET", "/procedurelogs")
ALLERGIES = route("GET", "/allergies")
MEDICATIONPATS = route("GET", "/medicationpats")
PATPLANS = route("GET", "/patplans")
PROCEDURECODES = route("GET", "/procedurecodes")
TREATPLANS = route("GET", "/treatplans")
TREATPLAN_CREATE = route("POST", "/treatplans")
TREATPLAN_DELETE = route("DELETE", "/treatplans/{TreatPlanNum}")
ATTACHES = route("GET", "/treatplanattaches")
ATTACH_CREATE = route("POST", "/treatplanattaches")
DOCUMENTS = route("GET", "/documents")
DOCUMENT = route("GET", "/documents/{DocNum}")
UPLOAD = route("POST", "/documents/Upload")
DOCUMENT_DELETE = route("DELETE", "/documents/{DocNum}")

# capability -> (what it is, the routes it takes); the round trips include the routes that undo them.
_NEEDS: dict[str, tuple[str, tuple[Route, ...]]] = {
    "treatment_plans": ("reading treatment plans", (TREATPLANS, ATTACHES)),
    "attach_procedures": ("attaching procedures to a plan", (ATTACH_CREATE,)),
    "treatment_plan_roundtrip": ("a test treatment plan that can be removed again",
                                 (TREATPLANS, ATTACHES, *with_undo(TREATPLAN_CREATE, ATTACH_CREATE))),
    "documents": ("reading the patient's documents", (DOCUMENTS,)),
    "document_roundtrip": ("a test image that can be removed again", (DOCUMENTS, *with_undo(UPLOAD))),
}


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0  # an unreachable office ends a `golive pms check` within 10 s
    read_s: float = 65.0  # the API itself gives a method 60 s, then answers 504 (apiimplementation.html)
    write_s: float = 30.0
    pool_s: float = 5.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s)


@dataclass(frozen=True)
class Changes:
    """One incremental read of a list route: the rows changed since `since`, and where the next read
    starts: the first row's serverDateTime, on routes whose rows carry one (Patients GET Simple,
    ProcedureLogs GET, Documents GET); `since` again when nothing changed; None when rows came from
    a route without serverDateTime (TreatPlans GET): the caller's own clock must then serve."""

    rows: tuple[dict[str, Any], ...]
    next_since: str | None


@dataclass(frozen=True)
class PatientSync:
    """One incremental patient sync: the patients changed since `since`, and where the next starts."""

    patients: tuple[Patient, ...]
    next_since: str | None


def check_url(url: str, allow_insecure_local: bool) -> str:
    """The API root ending in `/api/v1`; refuse plain HTTP unless to loopback and explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PmsConfigError("the Open Dental URL must be an absolute https:// URL")
    if parts.scheme == "http" and not (allow_insecure_local and parts.hostname in LOOPBACK):
        raise PmsConfigError(
            "plain HTTP is refused for Open Dental; use https:// (only a local simulator on 127.0.0.1 may use "
            "http, with allow_insecure_local)"
        )
    root = url.rstrip("/")
    return root if root.endswith("/api/v1") else root + "/api/v1"


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds (fractions accepted) or an HTTP date."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - now()) if when else 1.0


def _explanation(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    return str(body)[:200]


def _unreachable_reason(exc: httpx.TransportError) -> str:
    text = str(exc).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return "the connection timed out"
    if any(w in text for w in ("name or service not known", "nodename nor servname", "name resolution",
                               "getaddrinfo", "no address associated")):
        return "the host name does not resolve"
    if "refused" in text:
        return "the connection was refused"
    return f"the connection failed ({type(exc).__name__})"


def _extension(path: str) -> str:
    name = re.split(r"[\\/]", path)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


class OpenDentalConnector:
    system = "opendental"

    def __init__(
        self,
        base_url: str,
        developer_key: str,
        customer_key: str,
        *,
        allow_insecure_local: bool = False,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        image_category: str = "",
    ) -> None:
        self.base_url = check_url(base_url, allow_insecure_local)
        self.host = urlsplit(self.base_url).hostname or ""
        _install_log_redaction()
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"ODFHIR {developer_key}/{customer_key}", "Accept": "application/json",
                     "Content-Type": "application/json"},
            timeout=timeouts.httpx(),
            transport=transport,
        )
        self.retry = retry
        self._sleep = sleep
        self.pacer = pacer if pacer is not None else Pacer(clock=clock, sleep=sleep)
        self._version: Version | None = None
        self.image_category = image_category
        self.last_server_time: str | None = None
        self.requests_sent = 0
        self.calls: Counter[str] = Counter()  # route name -> requests sent (tests compare with the table)
        self._connect_s = timeouts.connect_s
        self._resolved = transport is not None  # a test transport has no host to look up

    def _resolve(self) -> None:
        """Look the host up once, bounded by the connect timeout: httpx's own timeouts do not cover
        name resolution, and an office whose name does not resolve must fail fast."""
        if self._resolved:
            return
        found: list[BaseException | None] = []

        def lookup() -> None:
            try:
                socket.getaddrinfo(self.host, None)
                found.append(None)
            except OSError as exc:
                found.append(exc)

        worker = threading.Thread(target=lookup, daemon=True)
        worker.start()
        worker.join(self._connect_s)
        if not found:
            raise PmsUnreachable(f"cannot reach the Open Dental API at {self.host}: the host name did not resolve "
                                 f"within {self._connect_s:g} s")
        if found[0] is not None:
            raise PmsUnreachable(f"cannot reach the Open Dental API at {self.host}: the host name does not resolve")
        self._resolved = True

    # -- transport ------------------------------------------------------------------------------
    def _gate(self, row: Route, params: Mapping[str, Any] | None) -> None:
        """Refuse, without a call, a route or filter the customer's version does not have."""
        v = self.version()
        if not v.at_least(row.version):
            raise PmsVersionTooLow(f"{row.name} is not supported by this version: Open Dental {v}; it was added "
                                   f"in {row.added}", v.text, row.added, row.name)
        for name, added in PARAMS_ADDED.get((row.method, row.path), {}).items():
            if params and name in params and not v.at_least(added):
                raise PmsVersionTooLow(f"the {name} filter of {row.name} is not supported by this version: Open "
                                       f"Dental {v}; it was added in {added}", v.text, added, row.name)

    def _send(self, row: Route, *, ids: Mapping[str, int] | None = None, params: Mapping[str, Any] | None = None,
              body: Any = None) -> Any:
        if row is not PREFERENCES:  # the version itself is read through /preferences
            self._gate(row, params)
        path = row.path_for(**(ids or {}))  # messages name row.path, the template: no PatNum in them
        self._resolve()
        self.pacer.wait()
        self.requests_sent += 1
        self.calls[row.name] += 1
        try:
            resp = self._client.request(row.method, path, params=dict(params or {}), json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise PmsUnreachable(f"cannot reach the Open Dental API at {self.host}: {_unreachable_reason(exc)}") \
                from None
        except httpx.TimeoutException as exc:
            raise PmsUnavailable(f"{row.name}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise PmsUnavailable(f"{row.name}: connection failed ({type(exc).__name__})") from None
        return self._read(row, resp)

    def _read(self, row: Route, resp: httpx.Response) -> Any:
        status, shown = resp.status_code, row.name
        if status == 400:
            text = _explanation(resp)
            if _VERSION_400.search(text):
                v = self._version.text if self._version else "?"
                raise PmsVersionTooLow(f"{row.name} is not supported by this version: Open Dental {v} answered "
                                       f"400 {text}", v, row.added, row.name)
            if _TRANSIENT_400.search(text):
                raise PmsUnavailable(f"{shown}: 400 (transient at the office) {text}")
            raise PmsBadRequest(f"{shown}: 400 {text}")
        if status == 429:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            self.pacer.block_for(wait)
            raise PmsRateLimited(f"{shown}: throttled (Retry-After {wait:g}s)", wait)
        if status in (401, 403):
            raise PmsAuthError(f"{shown}: {status} {_explanation(resp)}")
        if status == 404:
            raise PmsNotFound(f"{shown}: 404 {_explanation(resp)}")
        if status == 410:
            raise PmsGone(f"{shown} is not supported any more: Open Dental deprecated it (410 Gone)")
        if status >= 500:
            raise PmsUnavailable(f"{shown}: server error {status}")
        if status >= 300:
            raise PmsUnavailable(f"{shown}: unexpected status {status}")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise PmsUnavailable(f"{shown}: response was not JSON") from None

    def _get(self, row: Route, params: Mapping[str, Any] | None = None, **ids: int) -> Any:
        return call(lambda: self._send(row, ids=ids, params=params), self.retry, self._sleep)

    def _paged(self, row: Route, params: Mapping[str, Any] | None = None, page_size: int = MAX_PAGE
               ) -> Iterator[dict[str, Any]]:
        """apiimplementation.html, "Pagination": a plain GET first; while a page is full, the next Offset."""
        size = max(1, min(page_size, MAX_PAGE))
        offset = 0
        while True:
            q = dict(params or {})
            if offset:
                q["Offset"] = offset
            if size != MAX_PAGE:
                q["Limit"] = size
            page = self._get(row, q) or []
            yield from page
            if len(page) < size:
                return
            offset += len(page)

    def _delete(self, row: Route, **ids: int) -> None:
        """DELETE with retries; a 404 after an attempt whose answer was lost means it is done."""
        tried = False

        def attempt() -> None:
            nonlocal tried
            try:
                self._send(row, ids=ids)
            except PmsNotFound:
                if not tried:
                    raise
            finally:
                tried = True

        call(attempt, self.retry, self._sleep)

    # -- the general read API (metrics build on it) -----------------------------------------------
    def iterate(self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int = MAX_PAGE
                ) -> Iterator[dict[str, Any]]:
        """Every row of a list route in the table (`"/procedurelogs"`, `"/treatplans"`), paged, paced,
        retried and gated on the version; rows as Open Dental sends them."""
        yield from self._paged(route("GET", path), params, page_size)

    def get(self, path: str, **ids: int) -> Any:
        """One record from a single-record route in the table (`get("/patients/{PatNum}", PatNum=5)`)."""
        return self._get(route("GET", path), None, **ids)

    def changes(self, path: str, since: str | None, *, param: str = "DateTStamp",
                params: Mapping[str, Any] | None = None) -> Changes:
        """The rows of a list route altered since `since` (its `param`: DateTStamp, or SecDateTEdit
        for TreatPlans GET), for incremental collection; see `Changes` for where the next starts."""
        q = dict(params or {}) | ({param: since} if since else {})
        rows = tuple(self.iterate(path, q))
        if not rows:
            return Changes((), since)
        return Changes(rows, next((str(r["serverDateTime"]) for r in rows if r.get("serverDateTime")), None))

    # -- version and access -----------------------------------------------------------------------
    def version(self) -> Version:
        if self._version is None:
            rows = self._get(PREFERENCES, {"PrefName": "ProgramVersion"}) or []
            if not rows:
                raise PmsUnavailable("Open Dental did not report ProgramVersion")
            self._version = Version.parse(rows[0]["ValueString"])
        return self._version

    def _limit(self, capability: str) -> Limit | None:
        what, rows = _NEEDS[capability]
        missing = needed(self.version(), *rows)
        if missing is None:
            return None
        return Limit(capability, f"{what} needs Open Dental {missing.added} ({missing.name}); this office runs "
                                 f"{self.version()}", missing.added)

    def capabilities(self) -> Capabilities:
        limits = {cap: self._limit(cap) for cap in _NEEDS}
        ok = {cap: lim is None for cap, lim in limits.items()}
        return Capabilities(system=self.system, route="rest-api", access=Access.API,
                            treatment_plans=ok["treatment_plans"], attach_procedures=ok["attach_procedures"],
                            treatment_plan_roundtrip=ok["treatment_plan_roundtrip"], documents=ok["documents"],
                            document_roundtrip=ok["document_roundtrip"],
                            limits=tuple(lim for lim in limits.values() if lim is not None))

    def check_auth(self) -> None:
        """The version read is an authenticated request: once it has answered, the keys work."""
        self.version()

    def requests_per_record(self) -> int:
        """Requests one `clinical_record` sends: patient, procedures, and each item route the version has."""
        return 2 + sum(self.version().at_least(r.version) for r in (ALLERGIES, MEDICATIONPATS, PATPLANS))

    def battery_requests(self, check: str, *, sample: int = 10, code_pages: int = 10, planned: int = 3) -> int:
        """Requests each battery check (battery.py) sends on this version, counted from its calls; a
        test compares them with what the simulator receives. `planned`: procedures to attach."""
        caps, record = self.capabilities(), self.requests_per_record()
        counts = {
            "version": 0,  # read once per connector, before the checks
            "auth": 0,  # proven by that same authenticated read
            "patient_read": record,
            # procedures; find + create the plan; find + attach each procedure; read back plan and
            # its procedures; delete; look again
            "writeback": 1 + 2 + 2 * planned + 4 if caps.treatment_plan_roundtrip else 0,
            "code_mapping": code_pages if self.version().at_least(PROCEDURECODES.version) else 0,
            "nondestructive": 1 + sample * record + 2,  # listing; each record; changes since (2 routes)
            "imaging_passthrough": 1,  # + a single read per document without a file extension (<= 3)
            "attachment": 5 if caps.document_roundtrip else 0,  # find, upload, read back, delete, look again
        }
        return counts[check]

    # -- patients -------------------------------------------------------------------------------
    @staticmethod
    def _patient(row: dict[str, Any]) -> Patient:
        return Patient(str(row["PatNum"]), row.get("LName", ""), row.get("FName", ""), row.get("Birthdate", ""),
                       row.get("DateTStamp", ""))

    def patients(self, changed_since: str | None = None, page_size: int = MAX_PAGE) -> Iterator[Patient]:
        """Patients through `Patients GET Simple`; with `changed_since`, those altered since then.
        The first page's serverDateTime becomes `last_server_time` (an empty answer carries none)."""
        params = {"DateTStamp": changed_since} if changed_since else {}
        first = True
        for row in self._paged(PATIENTS_SIMPLE, params, page_size):
            if first and row.get("serverDateTime"):
                self.last_server_time, first = str(row["serverDateTime"]), False
            yield self._patient(row)

    def sync_patients(self, since: str | None) -> PatientSync:
        """One incremental sync step through Patients GET Simple: what changed since `since`, and
        the `since` of the next step."""
        found = self.changes("/patients/Simple", since)
        return PatientSync(tuple(self._patient(r) for r in found.rows), found.next_since)

    def sync_point(self) -> str | None:
        return self.last_server_time

    def changed_since(self, marker: str) -> set[str]:
        changed = {p.patient_id for p in self.patients(changed_since=marker)}
        changed |= {str(r["PatNum"]) for r in self._paged(PROCEDURELOGS, {"DateTStamp": marker})}
        return changed

    def patient(self, patient_id: str) -> Patient:
        return self._patient(self._get(PATIENT, PatNum=int(patient_id)))

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        return [
            Procedure(str(r["ProcNum"]), str(r["PatNum"]), r.get("procCode", ""), r.get("ProcStatus", ""),
                      r.get("ProcDate", ""))
            for r in self._paged(PROCEDURELOGS, {"PatNum": int(patient_id)})
        ]

    def _count(self, item: str, row: Route, pid: int, limits: list[Limit]) -> int | None:
        if not self.version().at_least(row.version):
            limits.append(Limit(item, f"{item} needs Open Dental {row.added} ({row.name}); this office runs "
                                      f"{self.version()}", row.added))
            return None
        return sum(1 for _ in self._paged(row, {"PatNum": pid}))

    def clinical_record(self, patient_id: str) -> ClinicalRecord:
        pid = int(patient_id)
        limits: list[Limit] = []
        return ClinicalRecord(
            patient=self.patient(patient_id),
            procedures=tuple(self.procedures(patient_id)),
            allergies=self._count("allergies", ALLERGIES, pid, limits),
            medications=self._count("medications", MEDICATIONPATS, pid, limits),
            insurance_plans=self._count("insurance", PATPLANS, pid, limits),
            limits=tuple(limits),
        )

    def procedure_codes(self) -> Sequence[ProcedureCode]:
        # Descript/AbbrDesc are dropped on purpose: CDT descriptions are ADA-licensed.
        return [ProcedureCode(str(r["CodeNum"]), str(r["ProcCode"])) for r in self._paged(PROCEDURECODES)]

    # -- treatment plans ------------------------------------------------------------------------
    @staticmethod
    def _plan(row: dict[str, Any], procs: tuple[str, ...] = ()) -> TreatmentPlan:
        return TreatmentPlan(str(row["TreatPlanNum"]), str(row["PatNum"]), row.get("Heading", ""),
                             row.get("Note", ""), row.get("TPStatus", ""), procs)

    def treatment_plans(self, patient_id: str) -> Sequence[TreatmentPlan]:
        return [self._plan(r) for r in self._paged(TREATPLANS, {"PatNum": int(patient_id)})]

    def plan_procedures(self, plan_id: str) -> tuple[str, ...]:
        return tuple(str(r["ProcNum"]) for r in self._paged(ATTACHES, {"TreatPlanNum": int(plan_id)}))

    def create_treatment_plan(self, patient_id: str, heading: str, note: str) -> TreatmentPlan:
        """One POST, never retried here: retrying a create safely needs read-before-write (writeback.py)."""
        row = self._send(TREATPLAN_CREATE, body={"PatNum": int(patient_id), "Heading": heading, "Note": note})
        return self._plan(row)

    def attach_procedures(self, plan_id: str, procedure_ids: Sequence[str]) -> None:
        for proc in procedure_ids:
            self._attach_one(plan_id, proc)

    def _attach_one(self, plan_id: str, proc: str) -> None:
        def find() -> str | None:
            return proc if proc in self.plan_procedures(plan_id) else None

        def create() -> str:
            self._send(ATTACH_CREATE, body={"TreatPlanNum": int(plan_id), "ProcNum": int(proc)})
            return proc

        write_once(find, create, self.retry, self._sleep)

    def delete_treatment_plan(self, plan_id: str) -> None:
        self._delete(TREATPLAN_DELETE, TreatPlanNum=int(plan_id))

    # -- documents and images -------------------------------------------------------------------
    @staticmethod
    def _document(row: dict[str, Any]) -> Document:
        doc, mount = int(row.get("DocNum") or 0), int(row.get("MountNum") or 0)
        return Document(
            document_id=f"mount:{mount}" if mount and not doc else str(doc),
            patient_id=str(row.get("PatNum", "")),
            category=str(row.get("docCategory") or row.get("DocCategory") or ""),
            date_created=str(row.get("DateCreated", "")),
            description=str(row.get("Description", "")),
            extension=_extension(str(row.get("filePath") or row.get("FileName") or "")),
            is_mount=bool(mount and not doc),
            tooth_numbers=str(row.get("ToothNumbers", "")),
            image_type=str(row.get("ImgType", "")),
        )

    def documents(self, patient_id: str) -> Sequence[Document]:
        return [self._document(r) for r in self._paged(DOCUMENTS, {"PatNum": int(patient_id)})]

    def document(self, document_id: str) -> Document:
        return self._document(self._get(DOCUMENT, DocNum=int(document_id)))

    def attach_document(
        self, patient_id: str, file_name: str, content: bytes, category: str, description: str
    ) -> Document:
        """Upload an image to the patient's Images module; `description` carries the idempotency marker."""
        ext = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ".png"
        body: dict[str, Any] = {"PatNum": int(patient_id), "rawBase64": base64.b64encode(content).decode(),
                                "extension": ext, "Description": description, "ImgType": "Photo"}
        chosen = category if category.isdigit() else self.image_category
        if chosen:  # a site's own image-category definition number; else Open Dental's first category
            body["DocCategory"] = int(chosen)
        found, _ = write_once(
            find=lambda: next((d for d in self.documents(patient_id) if d.description == description), None),
            create=lambda: self._document(self._send(UPLOAD, body=body)),
            policy=self.retry, sleep=self._sleep,
        )
        return found

    def delete_document(self, document_id: str) -> None:
        self._delete(DOCUMENT_DELETE, DocNum=int(document_id))

    def close(self) -> None:
        self._client.close()
