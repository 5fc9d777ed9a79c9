"""Eight writers at once on one store (SQLite file, and a PostgreSQL database of its own): the
keyed rows they share are upserts, so none fails and nothing is duplicated (issue 18).

Each writer has its own `Store` (its own engine and connections), as a worker process would;
a barrier releases them together, and each repeats its writes so their transactions interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from store_fixtures import TEST_AUDIT_KEY

from golive.tasks.gates import repository
from golive.tasks.gates.observations import Sample
from golive.tasks.gates.records import DailyMetricRow, LocationRolloutRow, RollbackRow
from golive.tasks.pms.records import PmsWritebackRow
from golive.tasks.pms.writeback import WritebackKey, _record_pending
from golive.tasks.store import Store

WRITERS, ROUNDS, DAYS = 8, 4, 30
D0 = date(2026, 3, 2)
METRICS = ("case_acceptance_pct", "uptime_pct")


def _in_parallel(url: str, work: Callable[[Store, int, int], Any]) -> list[str]:
    """Run `work(store, writer, round)` in WRITERS threads, each with its own Store; the failures."""
    barrier = threading.Barrier(WRITERS)
    failures: list[str] = []

    def writer(n: int) -> None:
        store = Store(url, audit_key=TEST_AUDIT_KEY)
        try:
            barrier.wait()
            for r in range(ROUNDS):
                work(store, n, r)
        except Exception as exc:  # every failure is counted, none may happen
            failures.append(f"writer {n}: {type(exc).__name__}: {exc}")
        finally:
            store.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return failures


def test_eight_metric_writers_for_one_location(store: Store) -> None:
    """The reported failure: simulate-metrics runs sharing a location (UniqueViolation on PostgreSQL)."""

    def write(s: Store, n: int, r: int) -> None:
        start = D0 + timedelta(days=(n + r) % 5)  # overlapping, shifting spans
        repository.save_samples(s, [Sample(loc, m, start + timedelta(days=i), float(n * 100 + i))
                                    for loc in ("lakeview", "harbor") for m in METRICS for i in range(DAYS)],
                                "simulator")

    assert _in_parallel(store.url.render_as_string(hide_password=False), write) == []
    with store.session(readonly=True) as s:
        keys = s.execute(select(DailyMetricRow.location_id, DailyMetricRow.metric, DailyMetricRow.day,
                                DailyMetricRow.source, func.count()).group_by(
            DailyMetricRow.location_id, DailyMetricRow.metric, DailyMetricRow.day, DailyMetricRow.source)).all()
    assert keys, "nothing written"
    assert max(k[-1] for k in keys) == 1  # 0 duplicates
    days = {k[2] for k in keys}
    assert min(days) == D0 and max(days) <= D0 + timedelta(days=DAYS - 1 + 4 + 3)


def test_eight_writers_of_rollbacks_and_rollout(store: Store) -> None:
    """Two watch runs opening a rollback for one location, rollout status set at once: one open
    rollback, one rollout row, no failure."""
    now = datetime(2026, 4, 1, 12, tzinfo=UTC)

    def write(s: Store, n: int, r: int) -> None:
        repository.open_rollback(s, location="lakeview", reason=f"writer {n}", triggers=["uptime"],
                                 triggered_at=now, run_id=f"run-{n}-{r}")
        repository.set_rollout(s, "lakeview", status="rolled_back", workflow="previous", reason=f"writer {n}")

    assert _in_parallel(store.url.render_as_string(hide_password=False), write) == []
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(RollbackRow).where(RollbackRow.state == "open")) == 1
        assert s.scalar(select(func.count()).select_from(LocationRolloutRow)) == 1
    assert repository.close_rollback(store, "lakeview") is True
    rid, created = repository.open_rollback(store, location="lakeview", reason="again", triggers=[],
                                            triggered_at=now, run_id=None)
    assert created and rid > 0  # a closed rollback does not block the next one


def test_eight_writers_of_one_pms_writeback_key(store: Store) -> None:
    key = WritebackKey(runbook="integration-validation", location="lakeview", step="pms", patient_pseudonym="p-1",
                       plan_version="v1")

    def write(s: Store, n: int, r: int) -> None:
        assert _record_pending(s, key, "opendental") is None

    assert _in_parallel(store.url.render_as_string(hide_password=False), write) == []
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(PmsWritebackRow)) == 1
