"""Closed office days (the organization's calendar): a day without data at a closed office is
recorded `closed`, not missing, and does not make the gate inconclusive; data that arrives on a
closed day is still collected; a source that fails on a closed day stays missing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from collect_support import START, collectors, open_rig

from golive.tasks.gates import collected, repository
from golive.tasks.gates.collect.base import collect_day
from golive.tasks.gates.collect.calendar import calendars, office_calendar
from golive.tasks.gates.completeness import apply_gaps
from golive.tasks.gates.criteria import Status, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.planning.organization import load_organization

pytestmark = pytest.mark.integration
SATURDAY = START + timedelta(days=2)  # START is Thursday 2026-10-01
WEEKEND = office_calendar({"closed_weekdays": ["saturday", "sunday"]})
LOCS = ["loc-a", "loc-b"]


def _gate(store: Any, metric: str) -> Any:
    """A threshold criterion over the 4 days, with the ledger's gaps applied (as the gate step does)."""
    last = START + timedelta(days=3)
    spec = parse_spec([{"id": "c", "metric": metric, "test": "threshold", "op": ">=", "value": 0,
                        "window": {"start": str(START), "end": str(last)}}], as_of=str(last), locations=LOCS, name="t")
    verdict = evaluate(spec, repository.load_observations(store, locations=LOCS, metrics=[metric]))
    return verdict, apply_gaps(verdict, spec, collected.gaps(store, locations=LOCS, metrics=[metric]))


def test_a_closed_day_without_data_is_closed_not_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert SATURDAY.weekday() == 5
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, 4, gap_days={("loc-b", SATURDAY)})
    try:
        cs = collectors(rig, store, include=("opendental",))
        for day in rig.month.dates():
            report = collect_day(store, cs, day, LOCS, calendars={loc: WEEKEND for loc in LOCS})
            assert report.missing == []
    finally:
        rig.stop()
    rows = {(r["location"], r["metric"], r["day"]): r for r in collected.ledger(store)}
    closed = rows[("loc-b", "case_acceptance_pct", SATURDAY)]
    assert closed["status"] == "closed" and closed["reason"].startswith("office closed on saturdays")
    assert rows[("loc-a", "case_acceptance_pct", SATURDAY)]["status"] == "ok"  # a Saturday clinic: collected
    assert collected.gaps(store) == []
    _plain, checked = _gate(store, "case_acceptance_pct")
    assert checked.criteria[0].status is Status.PASS  # 3 open days at loc-b, none missing
    status = {(r["location"], r["metric"]): r for r in collected.status(store)}
    assert status[("loc-b", "case_acceptance_pct")]["closed_days"] == 1
    assert status[("loc-b", "case_acceptance_pct")]["missing_days"] == []


def test_the_same_day_on_an_open_calendar_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: without the calendar, the same empty Saturday is a gap and the gate is inconclusive."""
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, 4, gap_days={("loc-b", SATURDAY)})
    try:
        cs = collectors(rig, store, include=("opendental",))
        for day in rig.month.dates():
            collect_day(store, cs, day, LOCS, calendars={loc: office_calendar(None) for loc in LOCS})
    finally:
        rig.stop()
    assert {(g[0], g[2]) for g in collected.gaps(store)} == {("loc-b", SATURDAY)}
    _plain, checked = _gate(store, "case_acceptance_pct")
    assert checked.criteria[0].status is Status.INCONCLUSIVE


def test_a_source_failing_on_a_closed_day_stays_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, 4)
    try:
        monkeypatch.setenv("GOLIVE_SIM_ZENDESK_TOKEN", "wrong")
        report = collect_day(store, collectors(rig, store, include=("zendesk",)), SATURDAY, LOCS,
                             calendars={loc: WEEKEND for loc in LOCS})
    finally:
        rig.stop()
    assert report.closed == 0
    assert {m["reason"] for m in report.missing} == {"zendesk: credentials refused (401); check the secret reference"}


def _without_calendar(text: str) -> str:
    """The example group's file without its own `calendar:` block (the tests put theirs in)."""
    return re.sub(r"\ncalendar:\n(  .*\n)+", "\n", text, count=1)


def test_calendar_from_the_organization_file(tmp_path: Path) -> None:
    src = Path(__file__).parents[3] / "examples" / "acme-dental" / "organization.yaml"
    text = _without_calendar(src.read_text(encoding="utf-8"))
    text = text.replace("\nregions:", "\ncalendar:\n  closed_weekdays: [saturday, sunday]\n  holidays: ['2026-12-25']\nregions:", 1)
    first = "\n  - id: "
    head, tail = text.split(first, 1)  # the first location gets its own calendar: open Saturdays, opened in 2026
    text = head + first + tail.replace("\n", "\n    calendar: {closed_weekdays: [sunday], opened: '2026-03-02'}\n", 1)
    (tmp_path / "org.yaml").write_text(text, encoding="utf-8")
    org = load_organization(tmp_path / "org.yaml")
    first_id, other = org.locations[0].id, org.locations[1].id
    cal = calendars(org, [first_id, other, "not-in-the-file"])
    assert cal[first_id].closed(date(2026, 10, 3)) is None  # Saturday, open here
    assert cal[first_id].closed(date(2026, 10, 4)) == "office closed on sundays"
    assert cal[first_id].closed(date(2026, 3, 1)) == "office not open yet (opened 2026-03-02)"
    assert cal[first_id].closed(date(2026, 12, 25)) == "office closed: holiday"  # the group's holiday adds
    assert cal[other].closed(date(2026, 10, 3)) == "office closed on saturdays"
    assert cal["not-in-the-file"].closed(date(2026, 10, 3)) == "office closed on saturdays"
    assert calendars(SimpleNamespace(calendar=None), ["x"])["x"].closed(date(2026, 10, 3)) is None


def test_a_bad_calendar_names_its_line(tmp_path: Path) -> None:
    from golive.tasks.planning.organization import OrganizationInvalid

    src = Path(__file__).parents[3] / "examples" / "acme-dental" / "organization.yaml"
    text = _without_calendar(src.read_text(encoding="utf-8"))
    text = text.replace("\nregions:", "\ncalendar:\n  closed_weekdays: [caturday]\nregions:", 1)
    (tmp_path / "org.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(OrganizationInvalid) as err:
        load_organization(tmp_path / "org.yaml")
    line = text.splitlines().index("  closed_weekdays: [caturday]") + 1
    assert f"org.yaml:{line}:" in str(err.value)
