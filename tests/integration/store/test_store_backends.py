"""The store's behaviour, the same on SQLite and PostgreSQL (`store` is parametrized)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from golive.tasks.foundation.errors import StoreError
from golive.tasks.store import RunRecord, StepRecord, Store

pytestmark = pytest.mark.integration


def _run(store: Store, run_id: str = "r1", run_key: str = "key-1") -> RunRecord:
    return store.start_run(
        run_id=run_id, run_key=run_key, runbook="pre-implementation", parameters={"wave": 2}
    )


def _step(store: Store, run_id: str, step_key: str, state: str, **kw: object) -> StepRecord:
    fields: dict[str, object] = {
        "run_id": run_id,
        "run_key": "key-1",
        "step_key": step_key,
        "step_id": step_key.split("[")[0],
        "state": state,
        "input_hash": "h1",
        "outputs": {"n": 1},
    }
    fields.update(kw)
    return store.record_step(**fields)  # type: ignore[arg-type]


def test_migrate_twice_is_a_noop_and_keeps_data(store: Store) -> None:
    _run(store)
    before = store.current_revision()
    store.migrate()
    Store.open(store.url.render_as_string(hide_password=False)).dispose()
    assert store.current_revision() == before is not None
    assert store.get_run("r1") is not None


def test_concurrent_migrate_from_threads(store_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Store.open(store_url).dispose()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_run_lifecycle(store: Store) -> None:
    rec = _run(store)
    assert rec.state == "running" and rec.finished_at is None
    assert rec.started_at.tzinfo is not None
    store.finish_run("r1", "completed")
    got = store.get_run("r1")
    assert got is not None
    assert (got.state, got.parameters, got.runbook) == ("completed", {"wave": 2}, "pre-implementation")
    assert got.finished_at is not None and got.finished_at.utcoffset() == timedelta(0)
    assert got.finished_at >= got.started_at
    assert store.get_run("nope") is None
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.finish_run("nope", "failed")


def test_duplicate_run_id_under_another_key_is_a_store_error(store: Store) -> None:
    _run(store)
    with pytest.raises(StoreError, match="another run key"):
        _run(store, run_key="key-2")


def test_a_retry_of_the_same_run_reopens_it(store: Store) -> None:
    first = _run(store)
    store.finish_run("r1", "failed")
    again = _run(store)  # Prefect retried the same flow run: same id, same key
    assert (again.state, again.finished_at, again.started_at) == ("running", None, first.started_at)


def test_steps_and_resume_lookup(store: Store) -> None:
    _run(store, "r1")
    _run(store, "r2")
    t0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    first = _step(store, "r1", "kickoff", "completed", outputs={"who": "Zoë", "n": [1, 2]}, started_at=t0)
    _step(store, "r1", "fan[a]", "failed", error="boom")
    _step(store, "r1", "other", "completed", run_key="key-2")
    # a failed retry later must not hide the earlier completion; a cached one is newer
    _step(store, "r2", "kickoff", "failed", error="x")
    assert store.last_completed("key-1", "kickoff") == first
    cached = _step(store, "r2", "kickoff", "cached", outputs={"who": "Zoë", "n": [1, 2]})
    latest = store.last_completed("key-1", "kickoff")
    assert latest == cached and latest.state == "cached" and latest.run_id == "r2"
    assert store.last_completed("key-1", "fan[a]") is None
    assert store.last_completed("key-2", "kickoff") is None
    steps = store.steps_for_run("r1")
    assert [s.step_key for s in steps] == ["kickoff", "fan[a]", "other"]
    assert steps[0].started_at == t0 and steps[0].outputs == {"who": "Zoë", "n": [1, 2]}
    assert steps[1].error == "boom" and steps[1].step_id == "fan"


def test_step_for_unknown_run_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        _step(store, "ghost", "kickoff", "completed")


def test_approvals(store: Store) -> None:
    _run(store)
    a = store.record_approval(
        run_id="r1", step_key="cfo", decision="approve", name="Ana", role="CFO", comment="ok"
    )
    store.record_approval(
        run_id="r1", step_key="board", decision="reject", name="Bo", role="Board", comment=""
    )
    got = store.approvals_for_run("r1")
    assert got[0] == a
    assert [(x.step_key, x.decision, x.role) for x in got] == [
        ("cfo", "approve", "CFO"),
        ("board", "reject", "Board"),
    ]
    assert store.approvals_for_run("r2") == []


def test_session_commits_and_rolls_back(store: Store) -> None:
    _run(store)
    with pytest.raises(RuntimeError), store.session() as s:
        s.execute(text("UPDATE runs SET state = 'x' WHERE run_id = 'r1'"))
        raise RuntimeError("boom")
    assert store.get_run("r1").state == "running"  # type: ignore[union-attr]
    with store.session() as s:
        s.execute(text("UPDATE runs SET state = 'y' WHERE run_id = 'r1'"))
    assert store.get_run("r1").state == "y"  # type: ignore[union-attr]


def test_concurrent_step_writes_from_threads(store: Store) -> None:
    _run(store)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                _step(store, "r1", f"s{n}[{i}]", "completed")
                store.audit.append("step.completed", {"step": f"s{n}[{i}]"}, run_id="r1")
                store.last_completed("key-1", f"s{n}[{i}]")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.steps_for_run("r1")) == 200
    assert store.audit.verify().count == 200


def test_step_result_and_its_audit_entry_commit_together(store: Store) -> None:
    store.start_run(run_id="r-atomic", run_key="k", runbook="b", parameters={})
    record = store.record_step(run_id="r-atomic", run_key="k", step_key="s", step_id="s", state="completed",
                               input_hash="h", outputs={"a": 1}, audit=("step.end", {"step": "s"}))
    assert store.completed_steps("k")["s"].id == record.id
    entries = store.audit.entries(run_id="r-atomic")
    assert [e.event for e in entries] == ["step.end"] and store.audit.verify().ok
    # A result that cannot be stored (not JSON) leaves neither the row nor the entry behind.
    with pytest.raises(StoreError):
        store.record_step(run_id="r-atomic", run_key="k", step_key="t", step_id="t", state="completed",
                          input_hash="h", outputs={"bad": object()}, audit=("step.end", {"step": "t"}))
    assert "t" not in store.completed_steps("k")
    assert len(store.audit.entries(run_id="r-atomic")) == 1


def test_first_started_is_the_earliest_run_under_the_key(store: Store) -> None:
    assert store.first_started("resume-key") is None
    store.start_run(run_id="r-first", run_key="resume-key", runbook="b", parameters={})
    first = store.get_run("r-first")
    store.start_run(run_id="r-second", run_key="resume-key", runbook="b", parameters={})
    assert first is not None and store.first_started("resume-key") == first.started_at
