"""The alternatives to golive's own probes and to an xAPI LRS: uptime from the vendor's Statuspage
(over HTTP, against its simulator), training completion from a Moodle course completion CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from golive.tasks.gates.collect.http import PacedClient
from golive.tasks.gates.collect.kinds import build
from golive.tasks.gates.collect.lms_csv import LmsCsvCollector, LmsCsvError, read_completions
from golive.tasks.gates.collect.local import ProbeCollector
from golive.tasks.gates.collect.sim import SIMULATOR_HEADER
from golive.tasks.gates.collect.sim.server import Served, serve
from golive.tasks.gates.collect.sim.statuspage import Incident, StatuspageState
from golive.tasks.gates.collect.sim.statuspage import create_app as statuspage_app
from golive.tasks.gates.collect.statuspage import StatuspageCollector

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 5)
T0 = datetime(2026, 10, 5, tzinfo=UTC)


@pytest.fixture
def page() -> Iterator[tuple[StatuspageState, Served]]:
    state = StatuspageState()
    a, b, portal = state.component("Planning (loc-a)"), state.component("Planning (loc-b)"), state.component("Portal")
    state.incidents = [
        Incident("i1", "Outage", "critical", T0 + timedelta(hours=10), T0 + timedelta(hours=11), [a]),  # 60 min down
        Incident("i2", "Partial", "major", T0 + timedelta(hours=10, minutes=30), T0 + timedelta(hours=12), [a]),
        Incident("i3", "Slow", "minor", T0 + timedelta(hours=3), T0 + timedelta(hours=4), [b]),  # degraded: up
        Incident("i4", "Overnight", "critical", T0 - timedelta(hours=1), T0 + timedelta(hours=2), [b]),  # 2 h today
        Incident("i5", "Portal", "critical", T0, T0 + timedelta(hours=6), [portal]),  # another component
    ]
    served = serve(statuspage_app(state))
    yield state, served
    served.stop()


def _collector(served: Served, **kw: object) -> StatuspageCollector:
    client = PacedClient("statuspage", served.url, {"Accept": "application/json"}, allow_insecure_local=True)
    return StatuspageCollector(client, "Planning (loc-a)", {"loc-b": "Planning (loc-b)"}, **kw)  # type: ignore[arg-type]


def test_statuspage_daily_uptime_from_incidents_on_the_component(page: tuple[StatuspageState, Served]) -> None:
    _state, served = page
    assert httpx.get(f"{served.url}/api/v2/summary.json").headers[SIMULATOR_HEADER] == "statuspage"
    got = {o.location: o for o in _collector(served).collect(DAY, ["loc-a", "loc-b"])}
    # loc-a: 10:00-11:00 major outage (overlapping the partial one: counted once, at the worst weight),
    # then 11:00-12:00 partial outage at 30 %: 3600 + 0.3 * 3600 s down.
    assert got["loc-a"].sample is not None and got["loc-a"].sample.denominator == 86400
    assert got["loc-a"].sample.numerator == 86400 - 3600 - 0.3 * 3600
    # loc-b: the overnight outage's 2 hours of this day; the degraded hour counts as up.
    assert got["loc-b"].sample is not None and got["loc-b"].sample.numerator == 86400 - 7200
    assert got["loc-b"].query.endswith("for 'Planning (loc-b)'")
    quiet = _collector(served).collect(DAY - timedelta(days=2), ["loc-a"])[0]
    assert quiet.sample is not None and quiet.sample.value == 100.0


def test_statuspage_days_it_cannot_judge_are_missing(page: tuple[StatuspageState, Served]) -> None:
    state, served = page
    a = state.components["Planning (loc-a)"]
    unknown = StatuspageCollector(PacedClient("statuspage", served.url, {}, allow_insecure_local=True), "Nope")
    assert unknown.collect(DAY, ["loc-a"])[0].reason == "no component named 'Nope' on the status page"
    today = _collector(served, now=lambda: T0 + timedelta(hours=20)).collect(DAY, ["loc-a"])[0]
    assert today.sample is None and today.reason == "the day is not over yet"
    # 60 more incidents later on: incidents.json lists only the 50 most recent, so DAY cannot be judged.
    later = T0 + timedelta(days=3)
    state.incidents += [Incident(f"n{i}", "Blip", "minor", later + timedelta(minutes=i), later + timedelta(minutes=i + 1),
                                 [a]) for i in range(60)]
    old = _collector(served).collect(DAY, ["loc-a"])[0]
    assert old.sample is None and old.reason is not None and "50 most recent incidents" in old.reason


def test_the_organizations_status_page_replaces_the_probe(tmp_path: Path) -> None:
    ctx = SimpleNamespace(org=SimpleNamespace(vendor=SimpleNamespace(status_page={
        "url": "https://status.vendor.example", "component": "Treatment planning"})), store=None)
    (c,) = build(ctx, {"probe": {}}, None)  # type: ignore[arg-type]
    assert isinstance(c, StatuspageCollector) and c.component == "Treatment planning"
    c.client.close()
    (p,) = build(SimpleNamespace(org=None, store=None), {"probe": {}}, None)  # type: ignore[arg-type]
    assert isinstance(p, ProbeCollector)


def test_xapi_durations_are_iso_8601() -> None:
    from golive.tasks.gates.collect.http import SourceError
    from golive.tasks.gates.collect.xapi import duration_s

    assert [duration_s(d) for d in ("PT1H30M", "PT45M30.5S", "P1DT2H", "PT0S")] == [5400, 2730.5, 93600, 0]
    for bad in ("P", "PT", "1H", "PT1.5H", "P1DT"):
        with pytest.raises(SourceError, match="ISO 8601"):
            duration_s(bad)


HEADER = "ID,Name,Email address,Department,Platform basics,Platform basics - Completion date,Course complete\n"


def test_lms_csv_counts_completions_per_location(tmp_path: Path) -> None:
    f = tmp_path / "completion.csv"
    f.write_text(HEADER + "7,Ann Example,ann@staff.invalid,loc-a,Completed,\"04/10/26, 09:15\",\"04/10/26, 09:15\"\n"
                 "8,Bob Example,bob@staff.invalid,loc-a,Completed,\"05/10/26, 17:40\",\"05/10/26, 17:40\"\n"
                 "9,Cy Example,cy@staff.invalid,loc-a,Not completed,,\n"
                 "10,Di Example,di@staff.invalid,loc-b,Not completed,,\n", encoding="utf-8")
    out = {(o.location, o.day): o for d in (DAY - timedelta(days=1), DAY)
           for o in LmsCsvCollector(f).collect(d, ["loc-a", "loc-b", "loc-c"])}
    assert out[("loc-a", DAY - timedelta(days=1))].sample.numerator == 1  # type: ignore[union-attr]
    assert (out[("loc-a", DAY)].sample.numerator, out[("loc-a", DAY)].sample.denominator) == (2, 3)  # type: ignore[union-attr]
    assert out[("loc-b", DAY)].sample.value == 0.0  # type: ignore[union-attr]
    assert out[("loc-c", DAY)].sample is None and "no tracked users" in (out[("loc-c", DAY)].reason or "")
    assert "Ann" not in repr(out) and "ann@" not in repr(out)


@pytest.mark.parametrize("body,where,what", [
    ("ID,Name,Department\n1,A,loc-a\n", "completion.csv:1:1:", "no column 'Course complete'"),
    (HEADER + "1,A,a@x.invalid,loc-a,Completed,\"31/02/26, 10:00\",\"31/02/26, 10:00\"\n", "completion.csv:2:7:",
     "'31/02/26, 10:00' is not a time in the format '%d/%m/%y, %H:%M'"),
    (HEADER + "1,A,a@x.invalid,,Not completed,,\n", "completion.csv:2:4:", "Department (the location id) is empty"),
    (HEADER + "1,A,a@x.invalid,loc-a\n", "completion.csv:2:5:", "4 fields, the header has 7"),
    (HEADER + "1,A,a@x.invalid,loc-a,,,\n1,B,b@x.invalid,loc-b,,,\n", "completion.csv:3:1:", "repeats line 2"),
    (HEADER + "\"1,A\nB\",\"multi\nline\",a@x.invalid,loc-a,,,\n2,C,c@x.invalid,loc-a,,,bad\n", "completion.csv:5:7:",
     "'bad' is not a time"),  # the row before spans lines 2-4
    (HEADER + "3,A,a@x.invalid,loc-a,,,\n\"1\",\"multi\nline\",a@x.invalid,loc-a,,,\"x\ny\"\n", "completion.csv:3:7:",
     "is not a time"),  # a bad row spanning lines 3-4 is named by its first line
])
def test_lms_csv_errors_name_file_line_and_column(tmp_path: Path, body: str, where: str, what: str) -> None:
    f = tmp_path / "completion.csv"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(LmsCsvError) as err:
        read_completions(f)
    assert where in str(err.value) and what in str(err.value)
    assert "a@x.invalid" not in str(err.value)
