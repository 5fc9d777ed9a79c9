"""Completeness and idempotency against the real simulators and store: a day missing from one
source makes the gate inconclusive for that criterion; a failed source is recorded missing with
its reason; a crash mid-collection and a rerun leave no duplicates; re-collecting replaces."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from collect_support import START, collectors, disagreements, open_rig, stored

from golive.tasks.gates import collected, repository
from golive.tasks.gates.collect.base import collect_day
from golive.tasks.gates.completeness import apply_gaps
from golive.tasks.gates.criteria import Status, parse_spec
from golive.tasks.gates.evaluate import evaluate

pytestmark = pytest.mark.integration
LOCS = ["loc-a", "loc-b"]
DAYS = 4


def _gate(store: Any, metric: str, op: str = ">=", value: float = 0) -> Any:
    spec = parse_spec([{"id": "c", "metric": metric, "test": "threshold", "op": op, "value": value,
                        "window": {"start": str(START), "end": str(START + timedelta(days=DAYS - 1))}}],
                      as_of=str(START + timedelta(days=DAYS - 1)), locations=LOCS, name="t")
    obs = repository.load_observations(store, locations=LOCS, metrics=[metric])
    verdict = evaluate(spec, obs)
    return verdict, apply_gaps(verdict, spec, collected.gaps(store, locations=LOCS, metrics=[metric]))


def test_a_day_without_pms_data_makes_the_gate_inconclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gap = START + timedelta(days=2)
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, DAYS, gap_days={("loc-b", gap)})
    try:
        cs = collectors(rig, store, include=("opendental",))
        for day in rig.month.dates():
            collect_day(store, cs, day, LOCS)
    finally:
        rig.stop()
    plain, checked = _gate(store, "case_acceptance_pct")
    # Without the ledger the gate would pass on 3 days of 4 at loc-b: exactly what must not happen.
    assert plain.criteria[0].status is Status.PASS
    assert checked.criteria[0].status is Status.INCONCLUSIVE
    assert checked.decision.value == "inconclusive"
    assert checked.criteria[0].evidence["missing"] == [{"location": "loc-b", "day": gap.isoformat()}]
    status = {(r["location"], r["metric"]): r for r in collected.status(store)}
    assert status[("loc-b", "case_acceptance_pct")]["missing_days"] == [gap.isoformat()]
    assert status[("loc-a", "case_acceptance_pct")]["missing_days"] == []
    assert status[("loc-a", "case_acceptance_pct")]["source"] == "opendental"


def test_a_failed_source_is_recorded_missing_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, DAYS)
    try:
        monkeypatch.setenv("GOLIVE_SIM_ZENDESK_TOKEN", "wrong")
        cs = collectors(rig, store, include=("zendesk",))
        report = collect_day(store, cs, START, LOCS)
    finally:
        rig.stop()
    assert report.written == 0
    assert {m["reason"] for m in report.missing} == {"zendesk: credentials refused (401); check the secret reference"}
    assert "wrong" not in str(report.missing)
    _plain, checked = _gate(store, "support_tickets")
    assert checked.criteria[0].status is Status.INCONCLUSIVE


class Crash(Exception):
    pass


def test_crash_mid_collection_then_rerun_leaves_no_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              store: Any) -> None:
    """On SQLite and PostgreSQL (the `store` fixture)."""
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, DAYS, store)
    try:
        cs = collectors(rig, store)
        day = START + timedelta(days=1)
        collect_day(store, cs, START, LOCS)

        def crash(loc: str) -> None:
            if loc == "loc-b":
                raise Crash("killed between two locations' transactions")

        with pytest.raises(Crash):
            collect_day(store, cs, day, LOCS, before_write=crash)
        half = stored(store)  # loc-a's day is in, loc-b's is not: whole location-days only
        assert any(k[0] == "loc-a" and k[2] == day for k in half)
        assert not any(k[0] == "loc-b" and k[2] == day for k in half)
        for d in (START, day):  # the rerun (the deployment's retry) collects both days again
            collect_day(store, cs, d, LOCS)
    finally:
        rig.stop()
    got = stored(store)  # asserts one sample per key
    truth = {k: v for k, v in rig.month.truth.items() if k[2] <= day}
    assert disagreements(truth, got) == []
    keys = [(r["location"], r["metric"], r["day"]) for r in collected.ledger(store)]
    assert len(keys) == len(set(keys))


def test_recollecting_a_day_replaces_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, rig = open_rig(tmp_path, monkeypatch, LOCS, DAYS)
    try:
        cs = collectors(rig, store, include=("opendental",))
        collect_day(store, cs, START, LOCS)
        first = stored(store)
        db = rig.farm.dbs["loc-a"]  # a front-desk correction: one more completed implant that day
        db.execute("INSERT INTO procedurelog (PatNum, CodeNum, ProcDate, ProcFee, ProcStatus, ToothNum, DateTP,"
                   " DateTStamp, SecDateEntry) SELECT 10000, CodeNum, ?, '1000.00', 'C', '8', ?, ?, ? FROM procedurecode"
                   " WHERE ProcCode = 'D6010'", (str(START), str(START), f"{START} 18:00:00", str(START)))
        collect_day(store, cs, START, LOCS)
    finally:
        rig.stop()
    second = stored(store)
    key = ("loc-a", "procedures_implant", START)
    assert second[key][0] == first[key][0] + 1
    assert len(second) == len(first)
