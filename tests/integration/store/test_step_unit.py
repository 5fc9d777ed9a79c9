"""A step unit on SQLite and PostgreSQL: a joined kind's writes, its audit entries and its result
commit together or not at all; an unjoined kind's audit entries wait for the result."""

from __future__ import annotations

import threading

import pytest

from golive.tasks.store import Store

pytestmark = pytest.mark.integration


def _record(store: Store, unit: object) -> None:
    store.record_step(run_id="r", run_key="k", step_key="sign", step_id="sign", state="completed", input_hash="h",
                      outputs={"ok": True}, audit=("step.end", {"step": "sign"}), unit=unit)  # type: ignore[arg-type]


def test_joined_writes_vanish_without_the_commit(store: Store) -> None:
    store.start_run(run_id="r", run_key="k", runbook="b", parameters={}, audit=("run.start", {}))
    with store.step_unit("r", join=True) as unit:
        store.record_approval(run_id="r", step_key="sign", decision="approve", name="A", role="CFO")
        unit.audit("approval.decided", {"step": "sign"})
        assert [a.step_key for a in store.approvals_for_run("r")] == ["sign"]  # the step reads its own write
        # (a kill here: nothing of the step is committed)
    assert store.approvals_for_run("r") == []
    assert [e.event for e in store.audit.entries()] == ["run.start"]
    assert store.completed_steps("k") == {}


def test_joined_writes_commit_with_the_result(store: Store) -> None:
    store.start_run(run_id="r", run_key="k", runbook="b", parameters={}, audit=("run.start", {}))
    with store.step_unit("r", join=True) as unit:
        store.record_approval(run_id="r", step_key="sign", decision="approve", name="A", role="CFO")
        unit.audit("approval.decided", {"step": "sign"})
        _record(store, unit)
    assert len(store.approvals_for_run("r")) == 1
    assert [e.event for e in store.audit.entries()] == ["run.start", "approval.decided", "step.end"]
    assert list(store.completed_steps("k")) == ["sign"]
    assert store.audit.verify().ok


def test_other_threads_write_while_a_unit_is_open(store: Store) -> None:
    """A parallel step's audit append is not swept into another step's open transaction."""
    store.start_run(run_id="r", run_key="k", runbook="b", parameters={}, audit=("run.start", {}))
    with store.step_unit("r", join=True) as unit:
        store.record_approval(run_id="r", step_key="sign", decision="approve", name="A", role="CFO")
        other = threading.Thread(target=lambda: store.audit.append("other.step", {}, run_id="r"))
        other.start()
        other.join(0.5)  # SQLite: it waits for the unit's write lock; PostgreSQL: it commits now
        unit.close(commit=False)  # the step fails: only its own writes go
    other.join(30)
    assert store.approvals_for_run("r") == []
    assert [e.event for e in store.audit.entries()] == ["run.start", "other.step"]
    assert store.audit.verify().ok
