"""The Open Dental client against httpx.MockTransport: headers, paging, the documented error and
throttle model, version gates from the route table, and replays of documentation-shaped rows."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from golive.tasks.pms import battery
from golive.tasks.pms.battery import Status
from golive.tasks.pms.check import run_checks
from golive.tasks.pms.opendental import OpenDentalConnector, check_url, parse_retry_after
from golive.tasks.pms.pacing import Pacer
from golive.tasks.pms.protocol import (
    PmsAuthError,
    PmsBadRequest,
    PmsConfigError,
    PmsGone,
    PmsNotFound,
    PmsRateLimited,
    PmsUnavailable,
    PmsUnreachable,
    PmsVersionTooLow,
)
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.routes import UnknownRoute
from golive.tasks.store import Store
from tests.unit.pms.od_examples import SERVER_TIME, ReplayServer

FAST = RetryPolicy(attempts=4, initial_s=0.0, max_s=0.0, jitter_s=0.0)
PSEUDO = lambda pid: f"P-{pid}x"  # noqa: E731


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def make(handler: Callable[[httpx.Request], httpx.Response], version: str = "25.3.20.0",
         clock: FakeClock | None = None, interval_s: float = 5.0) -> tuple[OpenDentalConnector, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def route(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path.endswith("/preferences"):
            return httpx.Response(200, json=[{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": version}])
        return handler(req)

    clock = clock or FakeClock()
    conn = OpenDentalConnector("https://od.example.test/api/v1", "DEV", "CUST", retry=FAST,
                               transport=httpx.MockTransport(route), sleep=clock.sleep,
                               pacer=Pacer(interval_s, clock, clock.sleep))
    return conn, seen


def replay(server: ReplayServer, clock: FakeClock | None = None) -> OpenDentalConnector:
    clock = clock or FakeClock()
    return OpenDentalConnector("https://od.example.test/api/v1", "DEV", "CUST", retry=FAST,
                               transport=server.transport(), sleep=clock.sleep, pacer=Pacer(5.0, clock, clock.sleep))


def test_auth_and_content_type_on_every_request_and_https_rules() -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]))
    conn.check_auth()
    conn.delete_document("27")
    assert [r.method for r in seen] == ["GET", "DELETE"]
    assert all(r.headers["Authorization"] == "ODFHIR DEV/CUST" for r in seen)
    assert all(r.headers["Content-Type"] == "application/json" for r in seen)  # GET and DELETE too
    assert str(seen[0].url).startswith("https://od.example.test/api/v1/preferences")
    with pytest.raises(PmsConfigError, match="plain HTTP is refused"):
        check_url("http://od.example.test/api/v1", allow_insecure_local=True)
    with pytest.raises(PmsConfigError, match="plain HTTP is refused"):
        check_url("http://127.0.0.1:9/api/v1", allow_insecure_local=False)
    assert check_url("http://127.0.0.1:9", allow_insecure_local=True) == "http://127.0.0.1:9/api/v1"


def test_incremental_sync_goes_through_patients_simple_with_datetstamp() -> None:
    rows = [{"serverDateTime": "2026-01-01 00:00:00", "PatNum": i, "LName": "x", "FName": "y",
             "Birthdate": "2000-01-01", "DateTStamp": "t"} for i in range(1, 251)]

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.url.path == "/api/v1/patients/Simple"
        off = int(req.url.params.get("Offset", 0))
        lim = int(req.url.params.get("Limit", 100))
        assert lim <= 100
        return httpx.Response(200, json=rows[off : off + lim])

    conn, seen = make(handler)
    got = list(conn.patients(changed_since="2025-01-01 00:00:00"))
    assert [p.patient_id for p in got] == [str(i) for i in range(1, 251)]
    pages = seen[1:]
    assert [r.url.params.get("Offset") for r in pages] == [None, "100", "200"]
    assert all(r.url.params["DateTStamp"] == "2025-01-01 00:00:00" for r in pages)
    assert conn.last_server_time == "2026-01-01 00:00:00"


def test_replayed_documented_rows_sync_incrementally() -> None:
    """Rows shaped like the Patients GET Simple example: serverDateTime is where the next sync starts;
    an empty answer carries none, so the next sync starts from the same point."""
    server = ReplayServer()
    conn = replay(server)
    first = conn.sync_patients(None)
    assert [p.patient_id for p in first.patients] == ["7", "8"] and first.next_since == SERVER_TIME
    second = conn.sync_patients(first.next_since)
    assert [p.patient_id for p in second.patients] == ["8"]  # edited after the first sync's server time
    third = conn.sync_patients("2099-01-01 00:00:00")
    assert third.patients == () and third.next_since == "2099-01-01 00:00:00"
    assert {m for m, _ in server.sent} == {"GET"} and ("GET", "/patients/Simple") in server.sent
    procs = conn.changes("/procedurelogs", "2025-01-01 00:00:00")  # the same pattern on any DateTStamp route
    assert [r["ProcNum"] for r in procs.rows] == [31] and procs.next_since == SERVER_TIME
    assert ("GET", "/patients") not in server.sent  # GET (multiple) takes no DateTStamp


@pytest.mark.parametrize(("status", "exc"), [(400, PmsBadRequest), (401, PmsAuthError), (404, PmsNotFound)])
def test_error_texts_are_typed_and_ids_redacted(status: int, exc: type[Exception]) -> None:
    conn, _ = make(lambda r: httpx.Response(status, json="Patient not found."))
    with pytest.raises(exc) as info:
        conn.patient("987654")
    assert "987654" not in str(info.value)
    assert "/patients/{PatNum}" in str(info.value)


def test_400_not_high_enough_is_a_version_refusal_and_not_retried() -> None:
    conn, seen = make(lambda r: httpx.Response(400, json="The version of the dental office is not high enough."))
    with pytest.raises(PmsVersionTooLow, match="not supported by this version") as info:
        conn.procedure_codes()
    assert info.value.needs == "22.3.22" and len(seen) == 2  # the version read, then one refused call


def test_transient_400_is_retried_and_other_400s_are_not() -> None:
    answers = iter([httpx.Response(400, json="eConnector is not running."),
                    httpx.Response(400, json="Request timed out at the office."), httpx.Response(200, json=[])])
    conn, seen = make(lambda r: next(answers))
    assert conn.procedure_codes() == []
    assert len(seen) == 4
    conn2, seen2 = make(lambda r: httpx.Response(400, json="PatNum is required."))
    with pytest.raises(PmsBadRequest):
        conn2.procedure_codes()
    assert len(seen2) == 2


def test_410_gone_is_not_supported_and_not_retried() -> None:
    conn, seen = make(lambda r: httpx.Response(410, json="deprecated"))
    with pytest.raises(PmsGone, match="deprecated it"):
        conn.procedure_codes()
    assert len(seen) == 2


def test_pacing_spaces_request_starts_by_the_interval() -> None:
    clock = FakeClock()
    starts: list[float] = []

    def handler(req: httpx.Request) -> httpx.Response:
        starts.append(clock.now)
        clock.now += 0.3  # the request's own execution counts within the interval
        return httpx.Response(200, json=[])

    conn, _ = make(handler, clock=clock)
    for _ in range(4):
        conn.procedure_codes()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps == [5.0, 5.0, 5.0]


def test_one_pacer_per_location_across_connectors() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, clock, clock.sleep)
    starts: list[float] = []

    def handler(req: httpx.Request) -> httpx.Response:
        starts.append(clock.now)
        if req.url.path.endswith("/preferences"):
            return httpx.Response(200, json=[{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": "25.1.1"}])
        return httpx.Response(200, json=[])

    a, b = (OpenDentalConnector("https://od.example.test", "D", "C", transport=httpx.MockTransport(handler),
                                pacer=pacer, sleep=clock.sleep) for _ in range(2))
    a.procedure_codes()
    b.procedure_codes()
    assert [round(s - starts[0], 6) for s in starts] == [0.0, 1.0, 2.0, 3.0]


def test_a_retry_after_still_holds_back_the_next_request() -> None:
    clock = FakeClock()
    sent_at: list[float] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        if len(sent_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json="Too many requests.")
        return httpx.Response(200, json=[])

    conn, _ = make(handler, clock=clock, interval_s=0.0)
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


def test_idempotent_reads_retry_on_504_but_creates_do_not() -> None:
    counts: dict[str, int] = {}

    def handler(req: httpx.Request) -> httpx.Response:
        counts[req.method] = counts.get(req.method, 0) + 1
        if req.method == "GET" and counts["GET"] < 3:
            return httpx.Response(504)
        if req.method == "POST":
            return httpx.Response(504)
        return httpx.Response(200, json=[])

    conn, _ = make(handler)
    assert conn.treatment_plans("5") == []
    assert counts["GET"] == 3
    with pytest.raises(PmsUnavailable):
        conn.create_treatment_plan("5", "h", "n")
    assert counts["POST"] == 1


@pytest.mark.parametrize(("version", "roundtrip", "needs"), [("23.1.12", False, "24.4.26"),
                                                             ("24.4.8", False, "24.4.26"),
                                                             ("24.4.26", True, None)])
def test_version_gates_come_from_the_route_table(version: str, roundtrip: bool, needs: str | None) -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]), version=version)
    caps = conn.capabilities()
    assert caps.treatment_plan_roundtrip is roundtrip
    assert (caps.limit("treatment_plan_roundtrip").needs if not roundtrip else None) == needs
    if not roundtrip:
        with pytest.raises(PmsVersionTooLow, match="24.4.26"):
            conn.delete_treatment_plan("9")
        assert [r.url.path for r in seen] == ["/api/v1/preferences"]  # refused without a call


def test_a_filter_newer_than_the_version_is_refused() -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]), version="25.1.14")
    with pytest.raises(PmsVersionTooLow, match="ProcStatus filter"):
        list(conn.iterate("/procedurelogs", {"ProcStatus": "C"}))
    assert list(conn.iterate("/procedurelogs", {"DateTStamp": "2025-01-01 00:00:00"})) == []
    assert len(seen) == 2


def test_a_route_outside_the_table_is_refused() -> None:
    conn, seen = make(lambda r: httpx.Response(200, json=[]))
    with pytest.raises(UnknownRoute, match="not in the route table"):
        list(conn.iterate("/appointments"))
    assert seen == []


def test_unreachable_host_is_one_attempt_and_says_why() -> None:
    """No retry for an office that cannot be reached: one attempt within the 5 s connect timeout."""
    calls: list[int] = []

    def refuse(req: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    conn = OpenDentalConnector("https://od.example.test", "D", "C", transport=httpx.MockTransport(refuse), retry=FAST)
    with pytest.raises(PmsUnreachable, match="od.example.test: the host name does not resolve"):
        conn.version()
    assert calls == [1]


def test_procedure_code_descriptions_are_dropped() -> None:
    conn = replay(ReplayServer())
    codes = conn.procedure_codes()
    assert [c.code for c in codes] == ["D6010"]
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


def test_image_check_on_documented_document_rows() -> None:
    """Documents GET (multiple) rows carry no ImgType or FileName and include mounts: the image is
    known by its file extension, the mount as a mount; the PDF is not an image; no filePath leaks."""
    conn = replay(ReplayServer())
    r = battery.imaging_passthrough_check(conn, "7", PSEUDO)
    assert r.status is Status.PASSED, r.summary
    kinds = {m["document_id"]: m["known_by"] for m in r.evidence["metadata"]}
    assert kinds == {"34": "file extension", "mount:15": "mount"}
    assert r.evidence["undetermined"] == 1  # the referral PDF
    assert "ExamplarAnn7" not in json.dumps(r.to_dict())


@pytest.mark.parametrize(("version", "status", "known_by"), [("24.2.32", Status.PASSED, {"34": "ImgType", "mount:15":
                                                                                         "mount"}),
                                                             ("23.1.12", Status.PASSED, {"mount:15": "mount"})])
def test_image_check_when_stored_in_the_database(version: str, status: Status, known_by: dict[str, str]) -> None:
    """InDatabase storage leaves filePath blank: from 24.2.32 Documents GET (single) gives ImgType."""
    conn = replay(ReplayServer(version=version, in_database=True))
    r = battery.imaging_passthrough_check(conn, "7", PSEUDO)
    assert r.status is status
    assert {m["document_id"]: m["known_by"] for m in r.evidence["metadata"]} == known_by


def test_full_battery_on_replayed_rows_calls_only_table_routes(store: Store) -> None:
    server = ReplayServer(server_time="2025-07-01 00:00:00")
    conn = replay(server)
    results = {r.check: r for r in run_checks(conn, location="replay", store=store, test_patient="7", sample=1,
                                              emitted_codes=("D6010",))}
    assert {k: r.status for k, r in results.items()} == {k: Status.PASSED for k in results}, \
        {k: r.summary for k, r in results.items()}
    assert server.plans == {} and server.attaches == [] and server.uploads == {}  # everything removed
    assert sum(conn.calls.values()) == len(server.sent) == conn.requests_sent


def test_nondestructive_on_replayed_rows_flags_an_edit_after_the_listing() -> None:
    """Patient 8's DateTStamp is later than the listing's serverDateTime: a change during the test."""
    conn = replay(ReplayServer())
    r = battery.nondestructive_check(conn, PSEUDO, sample=1, exclude=["7"])
    assert r.status is Status.FAILED and r.evidence["changed"] == ["P-8x"]
    assert "DateTStamp" in r.evidence["method"]
