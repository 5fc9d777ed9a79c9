"""The simulator over real HTTP: the documented routes, parameters, rows, statuses, version refusals
and throttling, and the simulator mark on every response."""

from __future__ import annotations

import httpx
import pytest
from pms_support import od_connector

from golive.tasks.pms.opendental import Timeouts
from golive.tasks.pms.protocol import PmsGone, PmsUnavailable
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.routes import ROUTES, match
from golive.tasks.pms.simulator import SIMULATOR_HEADER, SIMULATOR_NAME
from golive.tasks.pms.simulator.app import create_app
from golive.tasks.pms.simulator.db import SimDb
from golive.tasks.pms.simulator.process import SimProcess

pytestmark = pytest.mark.integration


def _h(sim: SimProcess, content_type: bool = True) -> dict[str, str]:
    h = {"Authorization": f"ODFHIR {sim.developer_key}/{sim.customer_key}"}
    return h | ({"Content-Type": "application/json"} if content_type else {})


def test_every_response_is_marked_and_statuses_are_the_documented_ones(clean_sim: SimProcess) -> None:
    sim = clean_sim
    responses = [
        httpx.get(f"{sim.url}/patients/Simple", headers=_h(sim)),  # 200
        httpx.get(f"{sim.url}/patients/Simple"),  # 401
        httpx.get(f"{sim.url}/patients/999999", headers=_h(sim)),  # 404 with explanation
        httpx.get(f"{sim.url}/allergies", headers=_h(sim)),  # 400: PatNum is required
        httpx.get(f"{sim.url}/patients/Simple", headers=_h(sim, content_type=False)),  # 400: Content-Type
        httpx.get(f"{sim.url}/appointments", headers=_h(sim)),  # 404: not a route of the table
        httpx.get(f"{sim.admin}/status"),
    ]
    sim.configure(gone=["GET /patplans"])
    responses.append(httpx.get(f"{sim.url}/patplans", headers=_h(sim)))  # 410
    sim.configure(gone=[], error_rate=1.0)
    responses.append(httpx.get(f"{sim.url}/patients/Simple", headers=_h(sim)))  # 504
    assert [r.status_code for r in responses] == [200, 401, 404, 400, 400, 404, 200, 410, 504]
    assert all(r.headers.get(SIMULATOR_HEADER) == SIMULATOR_NAME for r in responses)
    assert "Patient not found." in responses[2].text and "PatNum is required." in responses[3].text
    assert "Content-Type" in responses[4].text and "does not exist" in responses[5].text


def test_the_simulator_serves_exactly_the_route_table() -> None:
    app = create_app(SimDb(":memory:")).app
    served = {(m, r.path) for r in app.routes if getattr(r, "path", "").startswith("/api/v1")
              for m in getattr(r, "methods", ()) if m != "HEAD"}
    # One concrete path per served template; each must be a table row, and every row must be served.
    concrete = {(m, p.replace("{pat_num}", "5").replace("{doc_num}", "5").replace("{num}", "5")
                 .removeprefix("/api/v1")) for m, p in served}
    assert {match(m, p).name for m, p in concrete if match(m, p)} == {r.name for r in ROUTES}  # type: ignore[union-attr]
    assert all(match(m, p) for m, p in concrete)


def test_a_version_too_low_is_400_not_high_enough(clean_sim: SimProcess) -> None:
    clean_sim.configure(version="24.4.8.0")
    r = httpx.delete(f"{clean_sim.url}/treatplans/1", headers=_h(clean_sim))
    assert r.status_code == 400 and "not high enough" in r.text and "24.4.26" in r.text
    clean_sim.configure(version="22.1.30.0")
    r = httpx.get(f"{clean_sim.url}/patplans", headers=_h(clean_sim))
    assert r.status_code == 400 and "22.4.27" in r.text


def test_documented_rows_and_parameters(clean_sim: SimProcess) -> None:
    sim, h = clean_sim, _h(clean_sim)
    simple = httpx.get(f"{sim.url}/patients/Simple", params={"Limit": 500}, headers=h).json()
    assert len(simple) == 40 and list(simple[0])[:2] == ["serverDateTime", "PatNum"]
    single = httpx.get(f"{sim.url}/patients/1", headers=h).json()
    assert "serverDateTime" not in single and single["PatNum"] == 1
    procs = httpx.get(f"{sim.url}/procedurelogs", params={"Limit": 5}, headers=h)  # every parameter optional
    assert procs.status_code == 200 and len(procs.json()) == 5 and all(p["descript"] == "" for p in procs.json())
    codes = httpx.get(f"{sim.url}/procedurecodes", params={"Limit": 5, "Offset": 3}, headers=h).json()
    assert [row["CodeNum"] for row in codes] == [4, 5, 6, 7, 8] and all(c["Descript"] == "" for c in codes)
    docs = httpx.get(f"{sim.url}/documents", params={"PatNum": 1}, headers=h).json()
    assert not any("ImgType" in d or "FileName" in d for d in docs)
    mounts = [d for d in docs if d["MountNum"]]
    assert len(mounts) == 1 and mounts[0]["DocNum"] == 0 and mounts[0]["filePath"] == ""
    assert {d["filePath"].rsplit(".", 1)[-1] for d in docs if d["DocNum"]} == {"dcm", "jpg", "pdf"}
    one = httpx.get(f"{sim.url}/documents/{docs[0]['DocNum'] or docs[1]['DocNum']}", headers=h).json()
    assert "ImgType" in one and "FileName" in one
    sim.configure(storage="InDatabase")
    docs = httpx.get(f"{sim.url}/documents", params={"PatNum": 1}, headers=h).json()
    assert {d["filePath"] for d in docs} == {""}


def test_a_filter_the_version_lacks_is_not_applied(clean_sim: SimProcess) -> None:
    """ProcStatus on ProcedureLogs GET is "(Added in version 25.2.21)": an older office knows nothing of it."""
    sim, h = clean_sim, _h(clean_sim)
    all_rows = httpx.get(f"{sim.url}/procedurelogs", params={"PatNum": 2}, headers=h).json()
    tp = httpx.get(f"{sim.url}/procedurelogs", params={"PatNum": 2, "ProcStatus": "TP"}, headers=h).json()
    assert {p["ProcStatus"] for p in tp} == {"TP"} and len(tp) < len(all_rows)
    sim.configure(version="25.1.14.0")
    old = httpx.get(f"{sim.url}/procedurelogs", params={"PatNum": 2, "ProcStatus": "TP"}, headers=h).json()
    assert len(old) == len(all_rows)


def test_dropped_response_still_commits(clean_sim: SimProcess) -> None:
    clean_sim.configure(drop_after_commit_rate=1.0)
    before = len(clean_sim.treatplans())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{clean_sim.url}/treatplans", json={"PatNum": 2, "Note": "drop"}, headers=_h(clean_sim))
    assert len(clean_sim.treatplans()) == before + 1


def test_incremental_sync_from_server_time(clean_sim: SimProcess) -> None:
    conn = od_connector(clean_sim)
    first = conn.sync_patients(None)
    assert len(first.patients) == 40 and first.next_since
    assert conn.sync_patients(first.next_since).patients == ()
    clean_sim.touch(17)  # a front-desk edit after the last sync
    assert [p.patient_id for p in conn.sync_patients(first.next_since).patients] == ["17"]
    assert set(conn.calls) == {"GET /preferences", "GET /patients/Simple"}
    conn.close()


def test_a_paced_client_is_never_throttled_an_unpaced_one_is(clean_sim: SimProcess) -> None:
    clean_sim.configure(throttle_s=0.05)
    paced = od_connector(clean_sim, interval_s=0.08)
    for _ in range(6):
        paced.procedure_codes()
    assert clean_sim.status()["stats"]["throttled"] == 0
    # The control, with a window (0.5 s) that back-to-back requests fall inside however loaded the
    # machine is: the counter does count, and the unpaced client is throttled (then retries).
    clean_sim.configure(throttle_s=0.5)  # resets the counters
    bare = od_connector(clean_sim, interval_s=0.0)
    for _ in range(3):
        bare.procedure_codes()
    assert clean_sim.status()["stats"]["throttled"] >= 1
    paced.close()
    bare.close()


def test_transient_400_and_504_are_retried_410_is_not(clean_sim: SimProcess) -> None:
    conn = od_connector(clean_sim, interval_s=0.0, retry=RetryPolicy(attempts=8, initial_s=0, max_s=0, jitter_s=0))
    conn.version()
    clean_sim.configure(transient_400_rate=0.3, error_rate=0.2, seed=4)
    for _ in range(10):
        assert len(conn.procedure_codes()) == 36
    stats = clean_sim.status()["stats"]
    assert stats["transient_400"] > 0 and stats["errors"] > 0
    clean_sim.configure(gone=["GET /procedurecodes"], transient_400_rate=0, error_rate=0)
    sent = conn.requests_sent
    with pytest.raises(PmsGone):
        conn.procedure_codes()
    assert conn.requests_sent == sent + 1
    conn.close()


def test_latency_beyond_the_read_timeout_is_unavailable_then_retried(clean_sim: SimProcess) -> None:
    conn = od_connector(clean_sim, interval_s=0.0, timeouts=Timeouts(read_s=0.1),
                        retry=RetryPolicy(attempts=2, initial_s=0, max_s=0, jitter_s=0))
    conn.version()
    clean_sim.configure(latency_s=0.5)
    with pytest.raises(PmsUnavailable, match="timed out"):
        conn.procedure_codes()
    assert conn.requests_sent == 3  # the version, then two attempts
    conn.close()
