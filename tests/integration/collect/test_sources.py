"""Each connector against its simulator: paging, pacing, retries, version headers, clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from golive.tasks.gates.collect.http import PacedClient, SourceError
from golive.tasks.gates.collect.sim import SIMULATOR_HEADER
from golive.tasks.gates.collect.sim.lrs import LrsState
from golive.tasks.gates.collect.sim.lrs import create_app as lrs_app
from golive.tasks.gates.collect.sim.server import Served, serve
from golive.tasks.gates.collect.sim.zendesk import Ticket, ZendeskState
from golive.tasks.gates.collect.sim.zendesk import create_app as zendesk_app
from golive.tasks.gates.collect.xapi import COMPLETED, LOCATION_EXT, VERSION, XapiCollector
from golive.tasks.gates.collect.zendesk import ZendeskCollector
from golive.tasks.pms.pacing import Pacer

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 5)


@pytest.fixture
def zendesk() -> Iterator[tuple[ZendeskState, Served]]:
    state = ZendeskState()
    # 230 tickets opened on DAY at loc-a: three pages of 100 (Pagination), 1 urgent in 10.
    state.tickets = [Ticket(i, datetime(2026, 10, 5, 9) + timedelta(seconds=i), "urgent" if i % 10 == 0 else "normal",
                            "open", ["loc-a"]) for i in range(1, 231)]
    state.tickets.append(Ticket(999, datetime(2026, 10, 5, 9), "urgent", "open", ["loc-b"]))
    served = serve(zendesk_app(state))
    yield state, served
    served.stop()


def _zd(state: ZendeskState, served: Served, token: str | None = None, interval_s: float = 0.0,
        attempts: int = 4) -> ZendeskCollector:
    client = PacedClient("zendesk", served.url, {"Accept": "application/json"},
                         (f"{state.email}/token", token or state.token), Pacer(interval_s), attempts=attempts,
                         allow_insecure_local=True)
    return ZendeskCollector(client)


def test_zendesk_pages_through_next_page_and_counts(zendesk: tuple[ZendeskState, Served]) -> None:
    state, served = zendesk
    c = _zd(state, served)
    out = {(o.location, o.metric): o for o in c.collect(DAY, ["loc-a", "loc-b"])}
    assert out[("loc-a", "support_tickets")].sample.value == 230  # type: ignore[union-attr]
    assert out[("loc-a", "critical_bugs_open")].sample.value == 23  # type: ignore[union-attr]
    assert out[("loc-b", "critical_bugs_open")].sample.value == 1  # type: ignore[union-attr]
    assert "created:2026-10-05" in out[("loc-a", "support_tickets")].query
    assert c.client.requests == 3 + 1 + 1 + 3  # loc-a: 1+1 critical pages, 3 opened pages; loc-b: 3 single pages


def test_zendesk_waits_out_429_and_retries_503(zendesk: tuple[ZendeskState, Served]) -> None:
    state, served = zendesk
    state.interval_s = 0.3  # the simulator answers 429 + Retry-After to anything sooner
    state.fail_next = 1
    c = _zd(state, served, interval_s=0.0)  # a client paced too fast for this account, on purpose
    assert c.count("type:ticket tags:loc-b") == 1  # 503, then retried: 1
    assert c.count("type:ticket tags:loc-b") == 1  # 429 with Retry-After, waited out, retried: 1
    assert state.rate_limited == 1
    assert c.client.requests == 4


def test_zendesk_refused_credentials_are_a_clear_error_without_the_token(zendesk: tuple[ZendeskState, Served]) -> None:
    state, served = zendesk
    c = _zd(state, served, token="not-the-token")
    with pytest.raises(SourceError, match="credentials refused") as err:
        c.count("type:ticket")
    assert "not-the-token" not in str(err.value)
    (missing,) = {o.reason for o in c.collect(DAY, ["loc-a"])}
    assert missing and "credentials refused" in missing


def test_zendesk_answers_are_marked_as_simulated(zendesk: tuple[ZendeskState, Served]) -> None:
    import httpx

    assert httpx.get(f"{zendesk[1].url}/api/v2/search.json").headers[SIMULATOR_HEADER] == "zendesk"


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(SourceError, match="https"):
        PacedClient("zendesk", "http://example.com", {}, None, allow_insecure_local=True)


@pytest.fixture
def lrs() -> Iterator[tuple[LrsState, Served]]:
    state = LrsState(page_max=7)
    for i in range(25):  # 25 completions by 20 learners at loc-a, 3 at loc-b, stored on DAY or later
        stored = datetime(2026, 10, 5 + (i >= 22), 10, i).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        state.statements.append({"id": f"s{i}", "actor": {"mbox_sha1sum": f"{i % 20:040x}"},
                                 "verb": {"id": COMPLETED}, "object": {"id": "course"},
                                 "context": {"extensions": {LOCATION_EXT: "loc-a" if i < 22 else "loc-b"}},
                                 "stored": stored, "timestamp": stored})
    served = serve(lrs_app(state))
    yield state, served
    served.stop()


def test_xapi_follows_more_and_counts_learners_by_day(lrs: tuple[LrsState, Served]) -> None:
    state, served = lrs
    client = PacedClient("xapi", f"{served.url}/xapi", {"X-Experience-API-Version": VERSION},
                         (state.username, state.password), allow_insecure_local=True)
    c = XapiCollector(client, activity="course", staff={"loc-a": 40, "loc-b": 3}, since=date(2026, 10, 1))
    got = c.collect(DAY, ["loc-a", "loc-b", "loc-c"])
    out = {o.location: o for o in got if o.metric == "training_completion_pct"}
    hours = {o.location: o.sample.value for o in got if o.metric == "training_hours" and o.sample is not None}
    assert hours == {"loc-a": 0.0, "loc-b": 0.0}  # these statements carry no result.duration
    a = out["loc-a"].sample
    assert a is not None and (a.numerator, a.denominator) == (20, 40)  # 22 statements, 20 learners
    b = out["loc-b"].sample
    assert b is not None and b.numerator == 0  # loc-b's completions were stored the next day (until)
    assert out["loc-c"].sample is None and "staff" in (out["loc-c"].reason or "")
    assert client.requests == 4  # 22 statements at 7 a page: `more` followed three times


def test_xapi_requires_the_version_header(lrs: tuple[LrsState, Served]) -> None:
    state, served = lrs
    client = PacedClient("xapi", f"{served.url}/xapi", {}, (state.username, state.password), allow_insecure_local=True)
    with pytest.raises(SourceError, match="400"):
        client.get_json("/statements")


def test_opendental_collection_is_paced_per_customer_key(tmp_path: Path) -> None:
    """The farm throttles each office at 100 ms; the connector paces at 150 ms (a margin for arrival jitter on a loaded machine): no request comes early."""
    import os

    from golive.tasks.gates.collect.opendental import OpenDentalCollector
    from golive.tasks.gates.collect.sim.month import Month
    from golive.tasks.gates.collect.sim.od_farm import start_farm
    from golive.tasks.pms.config import connect, settings_for

    locs = ["loc-a", "loc-b"]
    farm = start_farm(tmp_path, locs, throttle_s=0.1)
    try:
        month = Month(locs, DAY, 2)
        month.seed_opendental(farm.dbs)
        os.environ.update(farm.env())
        c = OpenDentalCollector(lambda loc: connect(settings_for({"id": loc}, farm.connection(loc, 0.15))))
        out = c.collect(DAY, locs)
        paced = sum(f.stats.throttled for f in farm.faults.values())
        unpaced = OpenDentalCollector(lambda loc: connect(settings_for({"id": loc}, farm.connection(loc, 0.0))))
        unpaced.collect(DAY, locs)  # the control: a client that does not pace is caught by the throttle
        early = sum(f.stats.throttled for f in farm.faults.values()) - paced
    finally:
        farm.stop()
    assert early >= 2
    assert all(o.sample is not None for o in out if o.metric != "production_per_patient")
    assert paced == 0
