"""The Open Dental client against httpx.MockTransport: headers, paging, errors, throttling, version gates."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from golive.tasks.pms.opendental import OpenDentalConnector, check_url, parse_retry_after
from golive.tasks.pms.protocol import (
    PmsAuthError,
    PmsBadRequest,
    PmsConfigError,
    PmsNotFound,
    PmsNotSupported,
    PmsRateLimited,
    PmsUnavailable,
)
from golive.tasks.pms.retry import RetryPolicy

FAST = RetryPolicy(attempts=4, initial_s=0.0, max_s=0.0, jitter_s=0.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def make(handler: Callable[[httpx.Request], httpx.Response], version: str = "23.3.8.0",
         clock: FakeClock | None = None) -> tuple[OpenDentalConnector, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def route(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path.endswith("/preferences"):
            return httpx.Response(200, json=[{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": version}])
        return handler(req)

    clock = clock or FakeClock()
    conn = OpenDentalConnector("https://od.example.test/api/v1", "DEV", "CUST", retry=FAST,
                               transport=httpx.MockTransport(route), sleep=clock.sleep, clock=clock)
    return conn, seen


def test_auth_header_and_https_rules() -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]))
    conn.check_auth()
    assert seen[0].headers["Authorization"] == "ODFHIR DEV/CUST"
    assert str(seen[0].url).startswith("https://od.example.test/api/v1/preferences")
    with pytest.raises(PmsConfigError, match="plain HTTP is refused"):
        check_url("http://od.example.test/api/v1", allow_insecure_local=True)
    with pytest.raises(PmsConfigError, match="plain HTTP is refused"):
        check_url("http://127.0.0.1:9/api/v1", allow_insecure_local=False)
    assert check_url("http://127.0.0.1:9", allow_insecure_local=True) == "http://127.0.0.1:9/api/v1"


def test_paging_uses_offset_and_stops_on_short_page() -> None:
    rows = [{"PatNum": i, "LName": "x", "FName": "y", "Birthdate": "2000-01-01", "DateTStamp": "t",
             "serverDateTime": "2026-01-01 00:00:00"} for i in range(1, 251)]

    def handler(req: httpx.Request) -> httpx.Response:
        off = int(req.url.params.get("Offset", 0))
        lim = int(req.url.params.get("Limit", 100))
        assert lim <= 100
        return httpx.Response(200, json=rows[off : off + lim])

    conn, seen = make(handler)
    got = list(conn.patients(changed_since="2025-01-01 00:00:00"))
    assert [p.patient_id for p in got] == [str(i) for i in range(1, 251)]
    offsets = [r.url.params.get("Offset") for r in seen]
    assert offsets == [None, "100", "200"]
    assert all(r.url.params["DateTStamp"] == "2025-01-01 00:00:00" for r in seen)
    assert conn.last_server_time == "2026-01-01 00:00:00"


@pytest.mark.parametrize(("status", "exc"), [(400, PmsBadRequest), (401, PmsAuthError), (404, PmsNotFound)])
def test_error_texts_are_typed_and_ids_redacted(status: int, exc: type[Exception]) -> None:
    conn, _ = make(lambda r: httpx.Response(status, json="Patient not found."))
    with pytest.raises(exc) as info:
        conn.patient("987654")
    assert "987654" not in str(info.value)
    assert "/patients/{id}" in str(info.value)


def test_retry_after_is_honoured_before_the_next_request() -> None:
    clock = FakeClock()
    sent_at: list[float] = []
    calls = {"n": 0}

    def handler(req: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json="Too many requests.")
        return httpx.Response(200, json=[])

    conn, _ = make(handler, clock=clock)
    assert conn.procedure_codes() == []
    assert sent_at[1] - sent_at[0] >= 7.0


def test_retry_after_too_long_fails_instead_of_stalling() -> None:
    conn, _ = make(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(PmsRateLimited):
        conn.procedure_codes()


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("0.2") == 0.2
    assert parse_retry_after(None) == 1.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0


def test_idempotent_reads_retry_on_5xx_but_creates_do_not() -> None:
    counts: dict[str, int] = {}

    def handler(req: httpx.Request) -> httpx.Response:
        counts[req.method] = counts.get(req.method, 0) + 1
        if req.method == "GET" and counts["GET"] < 3:
            return httpx.Response(503)
        if req.method == "POST":
            return httpx.Response(500)
        return httpx.Response(200, json=[])

    conn, _ = make(handler)
    assert conn.treatment_plans("5") == []
    assert counts["GET"] == 3
    with pytest.raises(PmsUnavailable):
        conn.create_treatment_plan("5", "h", "n")
    assert counts["POST"] == 1


def test_version_gates_report_not_supported_without_calling() -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]), version="22.4.15.0")
    with pytest.raises(PmsNotSupported, match="22.4.16"):
        conn.create_treatment_plan("5", "h", "n")
    assert [r.url.path for r in seen] == ["/api/v1/preferences"]
    conn2, _ = make(lambda r: httpx.Response(200, json=[]), version="23.1.10.0")
    caps = conn2.capabilities()
    assert caps.treatment_plans and not caps.attach_procedures
    with pytest.raises(PmsNotSupported, match="23.2.17"):
        conn2.attach_procedures("1", ["2"])


def test_procedure_code_descriptions_are_dropped() -> None:
    body = [{"CodeNum": 1, "ProcCode": "D0120", "Descript": "licensed words", "AbbrDesc": "lw"}]
    conn, _ = make(lambda r: httpx.Response(200, json=body))
    codes = conn.procedure_codes()
    assert [c.code for c in codes] == ["D0120"]
    assert "licensed" not in json.dumps([vars(c) for c in codes])


def test_delete_after_lost_response_counts_as_done() -> None:
    calls = {"n": 0}

    def handler(req: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.RemoteProtocolError("peer closed connection")
        return httpx.Response(404, json="TreatPlan not found.")

    conn, _ = make(handler)
    conn.delete_treatment_plan("9")  # no exception: the first attempt deleted it
    conn3, _ = make(lambda r: httpx.Response(404, json="TreatPlan not found."))
    with pytest.raises(PmsNotFound):
        conn3.delete_treatment_plan("9")
