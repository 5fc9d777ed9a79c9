"""The simulator over real HTTP: documented behaviour, the simulator mark, versions and faults."""

from __future__ import annotations

import httpx
import pytest

from golive.tasks.pms.opendental import OpenDentalConnector, Timeouts
from golive.tasks.pms.protocol import PmsUnavailable
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.simulator import SIMULATOR_HEADER, SIMULATOR_NAME
from golive.tasks.pms.simulator.process import SimProcess

pytestmark = pytest.mark.integration


def _auth(sim: SimProcess) -> dict[str, str]:
    return {"Authorization": f"ODFHIR {sim.developer_key}/{sim.customer_key}"}


def test_every_response_is_marked_as_simulator(clean_sim: SimProcess) -> None:
    sim = clean_sim
    responses = [
        httpx.get(f"{sim.url}/patients", headers=_auth(sim)),
        httpx.get(f"{sim.url}/patients"),  # 401
        httpx.get(f"{sim.url}/patients/999999", headers=_auth(sim)),  # 404
        httpx.get(f"{sim.url}/allergies", headers=_auth(sim)),  # 400
        httpx.get(f"{sim.admin}/status"),
    ]
    sim.configure(rate_limit_rate=1.0, retry_after_s=0.01)
    responses.append(httpx.get(f"{sim.url}/patients", headers=_auth(sim)))  # 429
    sim.configure(rate_limit_rate=0, error_rate=1.0)
    responses.append(httpx.get(f"{sim.url}/patients", headers=_auth(sim)))  # 5xx
    assert [r.status_code for r in responses][:5] == [200, 401, 404, 400, 200]
    assert responses[5].status_code == 429 and responses[5].headers["Retry-After"] == "0.01"
    assert responses[6].status_code in (500, 502, 503)
    assert all(r.headers.get(SIMULATOR_HEADER) == SIMULATOR_NAME for r in responses)
    assert "Patient not found." in responses[2].text and "PatNum is required." in responses[3].text


def test_paging_is_capped_at_100(clean_sim: SimProcess) -> None:
    r = httpx.get(f"{clean_sim.url}/patients", params={"Limit": 500}, headers=_auth(clean_sim))
    assert r.status_code == 200 and len(r.json()) == 40  # only 40 seeded
    r = httpx.get(f"{clean_sim.url}/procedurecodes", params={"Limit": 5, "Offset": 3}, headers=_auth(clean_sim))
    assert [row["CodeNum"] for row in r.json()] == [4, 5, 6, 7, 8]
    assert all(row["Descript"] == "" for row in r.json())  # no ADA descriptions shipped


def test_routes_newer_than_the_version_are_absent(clean_sim: SimProcess) -> None:
    clean_sim.configure(version="22.3.30.0")
    r = httpx.get(f"{clean_sim.url}/treatplans", params={"PatNum": 1}, headers=_auth(clean_sim))
    assert r.status_code == 404 and "added in 22.4.16" in r.text


def test_disabled_api_answers_401(clean_sim: SimProcess) -> None:
    clean_sim.configure(api_enabled=False)
    r = httpx.get(f"{clean_sim.url}/patients", headers=_auth(clean_sim))
    assert r.status_code == 401 and "not enabled" in r.text


def test_dropped_response_still_commits(clean_sim: SimProcess) -> None:
    clean_sim.configure(drop_after_commit_rate=1.0)
    before = len(clean_sim.treatplans())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{clean_sim.url}/treatplans", json={"PatNum": 2, "Note": "drop"}, headers=_auth(clean_sim))
    assert len(clean_sim.treatplans()) == before + 1


def test_incremental_sync_from_server_time(clean_sim: SimProcess) -> None:
    conn = OpenDentalConnector(clean_sim.url, clean_sim.developer_key, clean_sim.customer_key,
                               allow_insecure_local=True)
    assert len(list(conn.patients(page_size=7))) == 40
    since = conn.last_server_time
    assert since
    assert list(conn.patients(changed_since=since)) == []
    clean_sim.touch(17)  # a front-desk edit after the last sync
    assert [p.patient_id for p in conn.patients(changed_since=since)] == ["17"]
    conn.close()


def test_latency_beyond_the_read_timeout_is_unavailable_then_retried(clean_sim: SimProcess) -> None:
    clean_sim.configure(latency_s=0.5)
    conn = OpenDentalConnector(clean_sim.url, clean_sim.developer_key, clean_sim.customer_key,
                               allow_insecure_local=True, timeouts=Timeouts(read_s=0.1),
                               retry=RetryPolicy(attempts=2, initial_s=0, max_s=0, jitter_s=0))
    with pytest.raises(PmsUnavailable, match="timed out"):
        conn.procedure_codes()
    assert conn.requests_sent == 2
    conn.close()
