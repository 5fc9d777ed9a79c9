"""Open Dental connector over its documented REST API (`/api/v1`).

- Auth header `Authorization: ODFHIR {DeveloperKey}/{CustomerKey}`; PascalCase fields.
- Lists page with `Limit`/`Offset`, at most 100 rows a page; a short page ends the list.
- `DateTStamp` asks for patients altered since then; `serverDateTime` is where the next sync starts.
- 400/401/404 carry an explanation; 429 carries `Retry-After`, and no request of this connector
  leaves before it has expired (one gate shared by all calls on this connector).
- HTTPS only, except plain HTTP to a loopback host when `allow_insecure_local` is set (the simulator).
- Version gates as documented: treatment plans from 22.4.16, attaching procedures from 23.2.17.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from golive.tasks.pms.protocol import (
    Capabilities,
    ClinicalRecord,
    Document,
    Patient,
    PmsAuthError,
    PmsBadRequest,
    PmsConfigError,
    PmsNotFound,
    PmsNotSupported,
    PmsRateLimited,
    PmsUnavailable,
    Procedure,
    ProcedureCode,
    TreatmentPlan,
    Version,
)
from golive.tasks.pms.retry import RetryPolicy, call, write_once

log = logging.getLogger(__name__)
_ID_SEGMENT = re.compile(r"/\d+(?=[/?\s\"]|$)")


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
TREATPLANS_SINCE = Version.parse("22.4.16")
ATTACH_SINCE = Version.parse("23.2.17")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0
    read_s: float = 30.0
    write_s: float = 30.0
    pool_s: float = 5.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s)


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
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        image_category: str = "",
    ) -> None:
        self.base_url = check_url(base_url, allow_insecure_local)
        _install_log_redaction()
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"ODFHIR {developer_key}/{customer_key}", "Accept": "application/json"},
            timeout=timeouts.httpx(),
            transport=transport,
        )
        self.retry = retry
        self._sleep, self._clock = sleep, clock
        self._not_before = 0.0  # monotonic time before which nothing may be sent (Retry-After)
        self._gate = threading.Lock()
        self._version: Version | None = None
        self.image_category = image_category
        self.last_server_time: str | None = None
        self.requests_sent = 0

    # -- transport ------------------------------------------------------------------------------
    def _wait_for_gate(self) -> None:
        while True:
            with self._gate:
                delay = self._not_before - self._clock()
            if delay <= 0:
                return
            self._sleep(delay)

    def _send(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        self._wait_for_gate()
        self.requests_sent += 1
        shown = _ID_SEGMENT.sub("/{id}", path)  # record numbers (PatNum) never reach messages
        try:
            resp = self._client.request(method, path, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise PmsUnavailable(f"{method} {shown}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise PmsUnavailable(f"{method} {shown}: connection failed ({type(exc).__name__})") from None
        status = resp.status_code
        if status == 429:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            with self._gate:
                # A millisecond of margin: the server's clock started before our response arrived.
                self._not_before = max(self._not_before, self._clock() + wait + 0.001)
            raise PmsRateLimited(f"{method} {shown}: throttled (Retry-After {wait:g}s)", wait)
        if status in (401, 403):
            raise PmsAuthError(f"{method} {shown}: {status} {_explanation(resp)}")
        if status == 404:
            raise PmsNotFound(f"{method} {shown}: 404 {_explanation(resp)}")
        if status == 400:
            raise PmsBadRequest(f"{method} {shown}: 400 {_explanation(resp)}")
        if status >= 500:
            raise PmsUnavailable(f"{method} {shown}: server error {status}")
        if status >= 300:
            raise PmsUnavailable(f"{method} {shown}: unexpected status {status}")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise PmsUnavailable(f"{method} {shown}: response was not JSON") from None

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return call(lambda: self._send("GET", path, params), self.retry, self._sleep)

    def _paged(self, path: str, params: dict[str, Any] | None = None, page_size: int = MAX_PAGE) -> Iterator[Any]:
        size = max(1, min(page_size, MAX_PAGE))
        offset = 0
        while True:
            q = dict(params or {})
            if offset:
                q["Offset"] = offset
            if size != MAX_PAGE:
                q["Limit"] = size
            page = self._get(path, q) or []
            yield from page
            if len(page) < size:
                return
            offset += len(page)

    # -- version and access -----------------------------------------------------------------------
    def version(self) -> Version:
        if self._version is None:
            rows = self._get("/preferences", {"PrefName": "ProgramVersion"}) or []
            if not rows:
                raise PmsUnavailable("Open Dental did not report ProgramVersion")
            self._version = Version.parse(rows[0]["ValueString"])
        return self._version

    def capabilities(self) -> Capabilities:
        v = self.version()
        reasons = []
        if not v.at_least(TREATPLANS_SINCE):
            reasons.append(("treatment_plans", f"treatment plans are not supported by Open Dental {v}: the API "
                                               f"added them in {TREATPLANS_SINCE}"))
        if not v.at_least(ATTACH_SINCE):
            reasons.append(("attach_procedures", f"attaching procedures to a plan is not supported by Open Dental "
                                                 f"{v}: the API added it in {ATTACH_SINCE}"))
        return Capabilities(
            system=self.system, route="rest-api", treatment_plans=v.at_least(TREATPLANS_SINCE),
            attach_procedures=v.at_least(ATTACH_SINCE), documents=True, reasons=tuple(reasons),
        )

    def check_auth(self) -> None:
        self._get("/preferences", {"PrefName": "ProgramVersion"})

    # -- patients -------------------------------------------------------------------------------
    @staticmethod
    def _patient(row: dict[str, Any]) -> Patient:
        return Patient(str(row["PatNum"]), row.get("LName", ""), row.get("FName", ""), row.get("Birthdate", ""),
                       row.get("DateTStamp", ""))

    def patients(self, changed_since: str | None = None, page_size: int = MAX_PAGE) -> Iterator[Patient]:
        params = {"DateTStamp": changed_since} if changed_since else {}
        first = True
        for row in self._paged("/patients", params, page_size):
            if first:
                self.last_server_time, first = row.get("serverDateTime"), False
            yield self._patient(row)

    def patient(self, patient_id: str) -> Patient:
        return self._patient(self._get(f"/patients/{int(patient_id)}"))

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        return [
            Procedure(str(r["ProcNum"]), str(r["PatNum"]), r.get("procCode", ""), r.get("ProcStatus", ""),
                      r.get("ProcDate", ""))
            for r in self._paged("/procedurelogs", {"PatNum": int(patient_id)})
        ]

    def clinical_record(self, patient_id: str) -> ClinicalRecord:
        pid = int(patient_id)
        return ClinicalRecord(
            patient=self.patient(patient_id),
            procedures=tuple(self.procedures(patient_id)),
            allergies=sum(1 for _ in self._paged("/allergies", {"PatNum": pid})),
            medications=sum(1 for _ in self._paged("/medicationpats", {"PatNum": pid})),
            insurance_plans=sum(1 for _ in self._paged("/patplans", {"PatNum": pid})),
        )

    def procedure_codes(self) -> Sequence[ProcedureCode]:
        # Descript/AbbrDesc are dropped on purpose: CDT descriptions are ADA-licensed.
        return [ProcedureCode(str(r["CodeNum"]), str(r["ProcCode"])) for r in self._paged("/procedurecodes")]

    # -- treatment plans ------------------------------------------------------------------------
    def _require(self, capability: str) -> None:
        caps = self.capabilities()
        if not getattr(caps, capability):
            raise PmsNotSupported(caps.why_not(capability))

    @staticmethod
    def _plan(row: dict[str, Any], procs: tuple[str, ...] = ()) -> TreatmentPlan:
        return TreatmentPlan(str(row["TreatPlanNum"]), str(row["PatNum"]), row.get("Heading", ""),
                             row.get("Note", ""), row.get("TPStatus", ""), procs)

    def treatment_plans(self, patient_id: str) -> Sequence[TreatmentPlan]:
        self._require("treatment_plans")
        return [self._plan(r) for r in self._paged("/treatplans", {"PatNum": int(patient_id)})]

    def plan_procedures(self, plan_id: str) -> tuple[str, ...]:
        self._require("treatment_plans")
        return tuple(str(r["ProcNum"]) for r in self._paged("/treatplanattaches", {"TreatPlanNum": int(plan_id)}))

    def create_treatment_plan(self, patient_id: str, heading: str, note: str) -> TreatmentPlan:
        """One POST, never retried here: retrying a create safely needs read-before-write (writeback.py)."""
        self._require("treatment_plans")
        row = self._send("POST", "/treatplans", body={"PatNum": int(patient_id), "Heading": heading, "Note": note})
        return self._plan(row)

    def attach_procedures(self, plan_id: str, procedure_ids: Sequence[str]) -> None:
        self._require("attach_procedures")
        for proc in procedure_ids:
            self._attach_one(plan_id, proc)

    def _attach_one(self, plan_id: str, proc: str) -> None:
        def find() -> str | None:
            return proc if proc in self.plan_procedures(plan_id) else None

        def create() -> str:
            self._send("POST", "/treatplanattaches", body={"TreatPlanNum": int(plan_id), "ProcNum": int(proc)})
            return proc

        write_once(find, create, self.retry, self._sleep)

    def delete_treatment_plan(self, plan_id: str) -> None:
        self._require("treatment_plans")
        tried = False

        def attempt() -> None:
            nonlocal tried
            try:
                self._send("DELETE", f"/treatplans/{int(plan_id)}")
            except PmsNotFound:
                if not tried:
                    raise
                # An earlier attempt deleted it and its answer was lost.
            finally:
                tried = True

        call(attempt, self.retry, self._sleep)

    # -- documents and images -------------------------------------------------------------------
    @staticmethod
    def _document(row: dict[str, Any]) -> Document:
        return Document(str(row["DocNum"]), str(row["PatNum"]), row.get("FileName", ""),
                        str(row.get("docCategory") or row.get("DocCategory", "")), row.get("ImgType", ""),
                        row.get("DateCreated", ""), row.get("Description", ""))

    def documents(self, patient_id: str) -> Sequence[Document]:
        return [self._document(r) for r in self._paged("/documents", {"PatNum": int(patient_id)})]

    def attach_document(
        self, patient_id: str, file_name: str, content: bytes, category: str, description: str
    ) -> Document:
        """Upload an image to the patient's Images module; `description` carries the idempotency marker."""
        import base64

        ext = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ".png"
        body: dict[str, Any] = {"PatNum": int(patient_id), "rawBase64": base64.b64encode(content).decode(),
                                "extension": ext, "Description": description, "ImgType": "Photo"}
        chosen = category if category.isdigit() else self.image_category
        if chosen:  # a site's own image-category definition number; else Open Dental's default category
            body["DocCategory"] = int(chosen)
        found, _ = write_once(
            find=lambda: next((d for d in self.documents(patient_id) if d.description == description), None),
            create=lambda: self._document(self._send("POST", "/documents/Upload", body=body)),
            policy=self.retry, sleep=self._sleep,
        )
        return found

    def delete_document(self, document_id: str) -> None:
        tried = False

        def attempt() -> None:
            nonlocal tried
            try:
                self._send("DELETE", f"/documents/{int(document_id)}")
            except PmsNotFound:
                if not tried:
                    raise
            finally:
                tried = True

        call(attempt, self.retry, self._sleep)

    def close(self) -> None:
        self._client.close()
