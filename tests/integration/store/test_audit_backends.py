"""Audit-log chaining and tamper detection, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from golive.tasks.foundation.errors import AuditTampered
from golive.tasks.store import AuditVerification, Store, verify_report

pytestmark = pytest.mark.integration

KEY = "test-audit-key-0123456789abcdef"  # the store fixture's key
ROOT = Path(__file__).resolve().parents[3]


def _fill(store: Store, n: int = 10) -> None:
    for i in range(1, n + 1):
        assert store.audit.append("step.completed", {"step": f"s{i}", "i": i}, run_id="r1") == i


def _sql(store: Store, sql: str, **params: object) -> None:
    with store.session() as s:
        s.execute(text(sql), params)


def _bad(store: Store) -> AuditVerification:
    result = store.audit.verify()
    assert not result.ok
    return result


def test_empty_and_intact_logs_verify(store: Store) -> None:
    assert store.audit.verify() == AuditVerification(True, 0)
    _fill(store, 10)
    assert store.audit.verify() == AuditVerification(True, 10)
    assert verify_report(store) == (0, "10 audit entries verified")
    entries = store.audit.entries(run_id="r1")
    assert [e.seq for e in entries] == list(range(1, 11))
    assert entries[0].prev_hash == "0" * 64 and entries[1].prev_hash == entries[0].hash
    assert entries[4].data == {"step": "s5", "i": 5}


@pytest.mark.parametrize(
    ("column", "old", "new"),
    [("data", '"i":5', '"i":6'), ("event", "step.completed", "step.complete"), ("run_id", "r1", "r2")],
)
def test_one_changed_byte_is_found_at_its_entry(store: Store, column: str, old: str, new: str) -> None:
    _fill(store)
    _sql(
        store,
        f"UPDATE audit_log SET {column} = REPLACE({column}, :old, :new) WHERE seq = 5",
        old=old,
        new=new,
    )
    result = _bad(store)
    assert (result.first_bad_seq, result.count) == (5, 4)
    assert "HMAC" in (result.reason or "")
    assert verify_report(store)[0] == 1
    assert verify_report(store)[1].startswith("audit entry 5: ")


def test_changed_timestamp_byte_is_found(store: Store) -> None:
    _fill(store)
    ts = store.audit.entries()[6].ts  # seq 7
    flipped = ts[:-7] + ("1" if ts[-7] != "1" else "2") + ts[-6:]  # one digit of the microseconds
    _sql(store, "UPDATE audit_log SET ts = :ts WHERE seq = 7", ts=flipped)
    assert _bad(store).first_bad_seq == 7


def test_changed_hash_is_found(store: Store) -> None:
    _fill(store)
    _sql(store, "UPDATE audit_log SET hash = :h WHERE seq = 3", h="f" * 64)
    assert _bad(store).first_bad_seq == 3


def test_deleted_middle_entry_is_found(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_log WHERE seq = 4")
    result = _bad(store)
    assert (result.first_bad_seq, result.count) == (4, 3)
    assert "missing" in (result.reason or "")


def test_deleted_and_renumbered_entries_are_found(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_log WHERE seq = 4")
    for seq in range(5, 11):
        _sql(store, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    assert _bad(store).first_bad_seq == 4


def test_swapped_entries_are_found(store: Store) -> None:
    _fill(store)
    cols = "ts, event, run_id, data, prev_hash, hash"
    with store.session() as s:
        a = s.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 3")).one()._asdict()
        b = s.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 6")).one()._asdict()
        sets = ", ".join(f"{c} = :{c}" for c in a)
        s.execute(text(f"UPDATE audit_log SET {sets} WHERE seq = 3"), b)
        s.execute(text(f"UPDATE audit_log SET {sets} WHERE seq = 6"), a)
    assert _bad(store).first_bad_seq == 3


def test_swapped_payloads_are_found(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        d3 = s.execute(text("SELECT data FROM audit_log WHERE seq = 3")).scalar_one()
        d4 = s.execute(text("SELECT data FROM audit_log WHERE seq = 4")).scalar_one()
        s.execute(text("UPDATE audit_log SET data = :d WHERE seq = 3"), {"d": d4})
        s.execute(text("UPDATE audit_log SET data = :d WHERE seq = 4"), {"d": d3})
    assert _bad(store).first_bad_seq == 3


def test_truncated_tail_is_found(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_log WHERE seq > 7")
    result = _bad(store)
    assert (result.first_bad_seq, result.count) == (8, 7)
    assert "truncated" in (result.reason or "")


def test_truncated_tail_with_forged_checkpoint_is_found(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        h7 = s.execute(text("SELECT hash FROM audit_log WHERE seq = 7")).scalar_one()
        s.execute(text("DELETE FROM audit_log WHERE seq > 7"))
        s.execute(text("UPDATE audit_head SET seq = 7, hash = :h"), {"h": h7})
    assert _bad(store).first_bad_seq == 8


def test_replayed_old_checkpoint_is_found(store: Store) -> None:
    _fill(store, 7)
    with store.session() as s:
        old = s.execute(text("SELECT seq, hash, mac FROM audit_head")).one()._asdict()
    for i in range(3):
        store.audit.append("later", {"i": i})
    _sql(store, "UPDATE audit_head SET seq = :seq, hash = :hash, mac = :mac", **old)
    result = _bad(store)
    assert (result.first_bad_seq, result.count) == (8, 7)


def test_deleted_checkpoint_is_found(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_head")
    assert "checkpoint" in (_bad(store).reason or "")


def test_wrong_key_fails_at_entry_one(store: Store) -> None:
    _fill(store, 3)
    other = Store(store.url.render_as_string(hide_password=False), audit_key="a-different-key")
    try:
        result = other.audit.verify()
        assert (result.ok, result.first_bad_seq, result.count) == (False, 1, 0)
        assert "key" in (result.reason or "")
        with pytest.raises(AuditTampered, match="key"):
            other.audit.append("x", {})
    finally:
        other.dispose()
    assert store.audit.verify().ok  # the refused append left the chain intact


def test_wrong_key_with_checkpoint_gone_still_fails_at_entry_one(store: Store) -> None:
    _fill(store, 3)
    _sql(store, "DELETE FROM audit_head")
    other = Store(store.url.render_as_string(hide_password=False), audit_key="a-different-key")
    try:
        assert other.audit.verify().first_bad_seq == 1
    finally:
        other.dispose()


def test_eight_threads_appending_keep_the_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                store.audit.append("t", {"thread": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.audit.verify() == AuditVerification(True, 320)
    assert sorted((e.data["thread"], e.data["i"]) for e in store.audit.entries()) == sorted(
        (n, i) for n in range(8) for i in range(40)
    )


CHILD = """
import sys
from golive.tasks.store import Store
store = Store(sys.argv[1], audit_key=sys.argv[2])
print("ready", flush=True)
for i in range(int(sys.argv[3])):
    store.audit.append("child", {"i": i})
store.dispose()
"""


def test_a_second_process_appending_keeps_the_chain(store: Store) -> None:
    url = store.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, KEY, "150"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    mine = 0
    while child.poll() is None or mine < 150:
        store.audit.append("parent", {"i": mine})
        mine += 1
    assert child.wait(timeout=60) == 0
    assert store.audit.verify() == AuditVerification(True, 150 + mine)
    events = [e.event for e in store.audit.entries()]
    assert events.count("child") == 150 and events.count("parent") == mine
