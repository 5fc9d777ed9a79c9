"""Shared-installation benchmark (issue 18): what the metric upsert costs, and what it buys.

1. One writer, SQLite file: `save_samples` (one `INSERT ... ON CONFLICT DO UPDATE`) re-storing
   25 locations × 4 metrics × 90 days over rows already there, against the delete-then-insert it
   replaced, measured interleaved in the same run.
2. Eight writers at once for one location on PostgreSQL (a database of its own, dropped after):
   the upsert's wall time and failures, and the old delete-then-insert's failures under the same
   load (the reported UniqueViolation). Skipped with the reason when PostgreSQL is unreachable.

The 100-run, 1-worker-against-2-workers load is the `workers` area (bench/workers.py).
"""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from bench.timing import interleaved, ratio_line
from golive.tasks.gates import repository
from golive.tasks.gates.observations import Sample
from golive.tasks.gates.records import DailyMetricRow
from golive.tasks.store import Store

KEY = "bench-audit-key"
D0 = date(2026, 1, 5)
METRICS = ("case_acceptance_pct", "uptime_pct", "ticket_count", "adoption_pct")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def samples(locations: int, days: int, bump: float = 0.0) -> list[Sample]:
    return [Sample(f"loc-{loc:02d}", m, D0 + timedelta(days=d), float(loc + d) + bump)
            for loc in range(locations) for m in METRICS for d in range(days)]


def delete_then_insert(store: Any, rows: list[Sample], source: str) -> None:
    """The replaced `save_samples`: delete each (location, metric) span, then insert."""
    spans: dict[tuple[str, str], tuple[date, date]] = {}
    for s in rows:
        lo, hi = spans.get((s.location, s.metric), (s.day, s.day))
        spans[(s.location, s.metric)] = (min(lo, s.day), max(hi, s.day))
    with store.session() as session:
        for (loc, metric), (lo, hi) in spans.items():
            session.execute(delete(DailyMetricRow).where(
                DailyMetricRow.location_id == loc, DailyMetricRow.metric == metric,
                DailyMetricRow.source == source, DailyMetricRow.day >= lo, DailyMetricRow.day <= hi))
        session.add_all(DailyMetricRow(location_id=s.location, metric=s.metric, day=s.day, value=s.value,
                                       source=source) for s in rows)


def one_writer() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}", audit_key=KEY)
        rows = samples(25, 90)
        repository.save_samples(store, rows, "upsert")
        delete_then_insert(store, rows, "old")
        ours, base = interleaved(lambda: repository.save_samples(store, rows, "upsert"),
                                 lambda: delete_then_insert(store, rows, "old"), repeat=5)
        store.dispose()
    return ratio_line(f"save_samples upsert, 1 writer, {len(rows)} rows over stored ones (SQLite)", ours,
                      "delete-then-insert", base, goal="within 2x of the old write")


def pg_database() -> Iterator[str]:
    import psycopg

    name = f"golive_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def eight_writers(url: str, write: Callable[[Store, list[Sample]], Any]) -> tuple[float, int]:
    barrier, failures = threading.Barrier(8), []

    def writer(n: int) -> None:
        store = Store(url, audit_key=KEY)
        try:
            barrier.wait()
            for r in range(3):
                write(store, samples(1, 90, bump=n * 10 + r))
        except Exception as exc:  # counted, reported
            failures.append(type(exc).__name__)
        finally:
            store.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return time.perf_counter() - started, len(failures)


def main() -> Iterator[str]:
    yield one_writer()
    try:
        databases = pg_database()
        url = next(databases)
    except Exception as exc:  # noqa: BLE001 - reported as a skip
        yield f"8 writers on PostgreSQL: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
        return
    try:
        Store.open(url, audit_key=KEY).dispose()
        ours_s, ours_failed = eight_writers(url, lambda s, rows: repository.save_samples(s, rows, "simulator"))
        old_s, old_failed = eight_writers(url, lambda s, rows: delete_then_insert(s, rows, "old"))
        yield (f"8 writers × 3 rounds, one location (PostgreSQL): upsert {ours_s:.2f} s, {ours_failed} of 8 writers "
               f"failed; baseline delete-then-insert {old_s:.2f} s, {old_failed} of 8 writers failed")
    finally:
        next(databases, None)
