"""Per-location global concurrency limits against the session's Prefect server (issue 18): two
runs that change one location never overlap; runs on other locations, and read-only runs, do."""

from __future__ import annotations

import threading
import time

import pytest

from golive.flows.engine import loaded
from golive.flows.engine.locks import PREFIX, location_lock, lock_names
from golive.tasks.foundation import paths

HOLD_S = 2.0  # far longer than the spread of the two acquisitions


def _book(name: str):  # noqa: ANN202 - a Runbook
    return loaded.runbook(paths.RUNBOOKS / f"{name}.yaml")


def test_changing_runbooks_lock_their_locations_read_only_ones_none() -> None:
    assert lock_names(_book("rollback"), {"locations": ["harbor", "lakeview"]}) == [
        f"{PREFIX}harbor", f"{PREFIX}lakeview"]
    assert lock_names(_book("integration-validation"), {"location": "lakeview"}) == [f"{PREFIX}lakeview"]
    assert lock_names(_book("configuration-drift"), {"locations": ["lakeview"]}) == []  # reads only
    assert lock_names(_book("go-no-go-wave1"), {"locations": ["lakeview"]}) == []  # a verdict, not a change


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.usefixtures("golive_env")
def test_two_rollbacks_of_one_location_never_overlap() -> None:
    spans: dict[str, tuple[float, float]] = {}
    errors: list[str] = []
    start = threading.Barrier(2)

    def hold(tag: str, locations: list[str]) -> None:
        try:
            start.wait()
            with location_lock(_book("rollback"), {"locations": locations}):
                began = time.monotonic()
                time.sleep(HOLD_S)
                spans[tag] = (began, time.monotonic())
        except Exception as exc:  # counted below
            errors.append(f"{tag}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=hold, args=("rollback-1", ["lakeview-lock"])),
               threading.Thread(target=hold, args=("rollback-2", ["harbor-lock", "lakeview-lock"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(spans) == 2
    assert not _overlap(spans["rollback-1"], spans["rollback-2"])  # one location, one run at a time

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for name in ("lakeview-lock", "harbor-lock"):
            limit = client.read_global_concurrency_limit_by_name(f"{PREFIX}{name}")
            assert (limit.limit, limit.active_slots) == (1, 0)  # released after the runs


@pytest.mark.usefixtures("golive_env")
def test_other_locations_and_read_only_runs_do_not_wait() -> None:
    """While one run holds lakeview, a run on riverside and a read-only run on lakeview both start
    and finish (were they waiting for lakeview, the holder would give up after 60 s)."""
    finished: dict[str, threading.Event] = {"other-location": threading.Event(), "read-only": threading.Event()}

    def run(tag: str, book: str, locations: list[str]) -> None:
        with location_lock(_book(book), {"locations": locations}):
            finished[tag].set()

    with location_lock(_book("rollback"), {"locations": ["lakeview-busy"]}) as held:
        assert held == [f"{PREFIX}lakeview-busy"]
        threads = [threading.Thread(target=run, args=("other-location", "rollback", ["riverside-free"])),
                   threading.Thread(target=run, args=("read-only", "configuration-drift", ["lakeview-busy"]))]
        for t in threads:
            t.start()
        assert all(e.wait(60) for e in finished.values())  # done while lakeview is still held
    for t in threads:
        t.join(10)


@pytest.mark.usefixtures("golive_env")
def test_audit_key_from_a_prefect_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    from golive.tasks.store.audit import load_key

    Secret(value="installation-key-from-prefect").save("golive-audit-key-test", overwrite=True)
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "prefect-secret:golive-audit-key-test")
    assert load_key() == b"installation-key-from-prefect"


@pytest.mark.usefixtures("golive_env")
def test_a_retried_flow_run_keeps_its_slot_key() -> None:
    """Prefect sets a flow run's expected start once: its second attempt gets the same slot key."""
    from prefect import flow
    from prefect.runtime import flow_run

    from golive.flows.engine.scope import slot_run_key

    keys: list[str] = []

    @flow(retries=1, retry_delay_seconds=0, persist_result=False)
    def flaky() -> list[str]:
        keys.append(slot_run_key("go-no-go-wave1", {"locations": ["lakeview"]}, flow_run.scheduled_start_time))
        if len(keys) == 1:
            raise RuntimeError("first attempt fails")
        return keys

    assert flaky() == keys and len(keys) == 2
    assert keys[0] == keys[1]
