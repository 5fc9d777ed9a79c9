from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from golive.tasks.pms.protocol import PmsConfigError, PmsConnector
from golive.tasks.pms.records import PmsWritebackRow
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.writeback import WritebackKey, write_back
from golive.tasks.store import Store
from tests.unit.pms.pms_fakes import FakePms

FAST = RetryPolicy(attempts=3, initial_s=0, max_s=0, jitter_s=0)
KEY = WritebackKey("integration-validation", "downtown", "pms-writeback[downtown]", "P-abc", "1")


def test_fake_satisfies_the_protocol() -> None:
    assert isinstance(FakePms(), PmsConnector)


def test_key_is_recorded_before_the_pms_call(store: Store) -> None:
    pms = FakePms()
    pms.add_patients(1)
    seen: list[str] = []

    def inspect_store() -> None:
        with store.session(readonly=True) as s:
            seen.extend(r.state for r in s.scalars(select(PmsWritebackRow)))

    pms.on_create = inspect_store
    write_back(pms, store, KEY, "1", "h", ["100"], policy=FAST)
    assert seen == ["pending"]
    with store.session(readonly=True) as s:
        row = s.get(PmsWritebackRow, KEY.digest)
        assert row is not None and row.state == "written" and row.remote_plan_id == "1" and row.attached == 1
        assert row.patient_pseudonym == "P-abc"


def test_lost_response_is_found_by_read_before_write(store: Store) -> None:
    pms = FakePms(lose_next_create_response=True)
    pms.add_patients(1)
    res = write_back(pms, store, KEY, "1", "h", ["100"], policy=FAST)
    assert pms.creates == 1 and len(pms.plans) == 1
    assert res.created is False and res.plan_id == "1"
    assert pms.attaches["1"] == ["100"]


def test_same_key_twice_writes_once(store: Store) -> None:
    pms = FakePms()
    pms.add_patients(1)
    first = write_back(pms, store, KEY, "1", "h", policy=FAST)
    second = write_back(pms, store, KEY, "1", "h", policy=FAST)
    assert pms.creates == 1 and first.plan_id == second.plan_id and second.created is False
    v2 = WritebackKey(KEY.runbook, KEY.location, KEY.step, KEY.patient_pseudonym, "2")
    other = write_back(pms, store, v2, "1", "h", policy=FAST)
    assert pms.creates == 2 and other.plan_id != first.plan_id


def test_write_back_refuses_without_a_store() -> None:
    with pytest.raises(PmsConfigError, match="idempotency key"):
        write_back(FakePms(), None, KEY, "1", "h", policy=FAST)


def test_key_digest_covers_every_part() -> None:
    parts = ("rb", "loc", "step", "P-1", "1")
    base = WritebackKey(*parts).digest
    for i in range(5):
        changed = list(parts)
        changed[i] += "x"
        assert WritebackKey(*changed).digest != base


def test_run_key_is_part_of_the_key_and_empty_keeps_the_old_digest() -> None:
    run_a = replace(KEY, run_key="run-a")
    assert run_a.digest != KEY.digest != replace(KEY, run_key="run-b").digest != run_a.digest
    assert KEY.digest == WritebackKey(KEY.runbook, KEY.location, KEY.step, KEY.patient_pseudonym, KEY.plan_version,
                                      "").digest


def test_check_resumed_after_the_removal_does_not_write_again(store: Store) -> None:
    from golive.tasks.pms.battery import Status, writeback_check

    pms = FakePms()
    pms.add_patients(1)
    key = WritebackKey(KEY.runbook, KEY.location, KEY.step, KEY.patient_pseudonym, "1", "run-a")
    first = writeback_check(pms, store, key, "1")
    again = writeback_check(pms, store, key, "1")  # a kill after the removal, before the step committed
    assert first.status is again.status is Status.PASSED, (first.summary, again.summary)
    assert pms.creates == 1 and not pms.plans
    assert again.evidence["resumed"] is True and again.evidence["removed"] is True
    assert again.evidence["plan_id"] == first.evidence["plan_id"]
    other = writeback_check(pms, store, WritebackKey(*list(key.__dict__.values())[:5], "run-b"), "1")  # type: ignore[misc]
    assert other.status is Status.PASSED and pms.creates == 2 and not pms.plans  # another run: its own check


def test_check_resumed_between_removing_and_the_delete_finishes_the_removal(store: Store) -> None:
    from golive.tasks.pms.battery import Status, writeback_check
    from golive.tasks.pms.writeback import mark_removing, recorded

    pms = FakePms()
    pms.add_patients(1)
    key = WritebackKey(KEY.runbook, KEY.location, KEY.step, KEY.patient_pseudonym, "1", "run-a")
    res = write_back(pms, store, key, "1", "h", ["100"], policy=FAST)
    ev = {"patient": key.patient_pseudonym, "plan_id": res.plan_id, "created": True, "read_back": True,
          "procedures_attached": 1, "procedures_planned": 1, "idem_key": key.digest[:16]}
    mark_removing(store, key, {"ev": ev, "attach_supported": True, "attach_reason": "", "attached_ok": True})
    # killed here: `removing` committed, the plan not yet deleted
    result = writeback_check(pms, store, key, "1")
    assert result.status is Status.PASSED and result.evidence["removed"] is True, result.summary
    assert pms.creates == 1 and not pms.plans
    state = recorded(store, key)
    assert state is not None and state[0] == "removed"


def test_check_without_a_run_key_checks_again(store: Store) -> None:
    from golive.tasks.pms.battery import Status, writeback_check

    pms = FakePms()
    pms.add_patients(1)
    assert writeback_check(pms, store, KEY, "1").status is Status.PASSED  # `golive pms check`: no run key
    again = writeback_check(pms, store, KEY, "1")
    assert again.status is Status.PASSED and "resumed" not in again.evidence
    assert pms.creates == 2 and not pms.plans  # a genuine re-validation, not a resume
