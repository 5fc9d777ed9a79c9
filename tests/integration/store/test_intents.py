"""Intents (tasks/store/intents.py) on SQLite and PostgreSQL: committed before the call, found by a
resume, advanced with their evidence; two attempts recording one key at once find one row."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from store_fixtures import TEST_AUDIT_KEY

from golive.tasks.store import Store, intents
from golive.tasks.store.intents import IntentRow, IntentState, intent_key


def test_an_intent_is_committed_then_found_by_a_resume(store: Store) -> None:
    key = intent_key("run-1", "send", "imaging.dicom_send", "pacs:104", "series-1")
    assert key != intent_key("run-2", "send", "imaging.dicom_send", "pacs:104", "series-1")  # per run key
    first = intents.begin(store, key, run_key="run-1", step_key="send", kind="imaging.dicom_send")
    assert (first.state, first.resumed, first.evidence) == (IntentState.INTENDED, False, {})
    # another process (a new Store) sees it committed: a resume after a kill finds its own intent
    other = Store(store.url.render_as_string(hide_password=False), audit_key=TEST_AUDIT_KEY)
    try:
        again = intents.begin(other, key, run_key="run-1", step_key="send", kind="imaging.dicom_send")
        assert (again.state, again.resumed) == (IntentState.INTENDED, True)
        intents.advance(other, key, IntentState.REMOVING, {"ev": {"document_id": "7"}})
    finally:
        other.dispose()
    found = intents.lookup(store, key)
    assert found is not None and found.state is IntentState.REMOVING and found.evidence == {"ev": {"document_id": "7"}}
    intents.advance(store, key, IntentState.DONE, {"out": {"passed": True}})
    done = intents.begin(store, key, run_key="run-1", step_key="send", kind="imaging.dicom_send")
    assert (done.state, done.evidence, done.resumed) == (IntentState.DONE, {"out": {"passed": True}}, True)
    assert intents.lookup(store, intent_key("run-9", "send", "x")) is None


def test_two_attempts_recording_one_key_at_once_find_one_row(store: Store) -> None:
    url = store.url.render_as_string(hide_password=False)
    key = intent_key("run-1", "upload", "pms.attachment")
    barrier = threading.Barrier(4)
    seen: list[str] = []
    failures: list[BaseException] = []

    def attempt() -> None:
        own = Store(url, audit_key=TEST_AUDIT_KEY)
        try:
            barrier.wait(30)
            seen.append(intents.begin(own, key, run_key="run-1", step_key="upload", kind="pms.attachment").state.value)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == [] and seen == ["intended"] * 4
    with store.session(readonly=True) as s:
        assert s.execute(select(func.count()).select_from(IntentRow)).scalar() == 1
