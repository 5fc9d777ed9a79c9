"""Helpers shared by the metric-collection tests: a store and every source simulator, seeded."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.gates.collect.base import Collector
from golive.tasks.gates.collect.kinds import build
from golive.tasks.gates.collect.sim.rig import Rig, start_rig
from golive.tasks.gates.records import DailyMetricRow
from golive.tasks.store import Store

START = date(2026, 10, 1)


class Ctx:
    """The little of a StepContext that `build` reads (no organization: locations come as given)."""

    org = None
    store = None


def open_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locations: list[str], days: int,
             store: Any = None, **kw: Any) -> tuple[Store, Rig]:
    """The rig on `store` (e.g. the SQLite/PostgreSQL `store` fixture), else on a SQLite file."""
    store = store or Store.open(f"sqlite:///{tmp_path / 'golive.db'}")
    rig = start_rig(tmp_path, locations, START, days, store, **kw)
    for k, v in rig.env().items():
        monkeypatch.setenv(k, v)
    return store, rig


def collectors(rig: Rig, store: Store, **kw: Any) -> list[Collector]:
    return build(Ctx(), rig.sources(**kw), store)  # type: ignore[arg-type]


def stored(store: Store) -> dict[tuple[str, str, date], tuple[float, float | None, float | None]]:
    with store.session(readonly=True) as s:
        rows = [((r.location_id, r.metric, r.day), (r.value, r.numerator, r.denominator))
                for r in s.query(DailyMetricRow)]
    out = dict(rows)
    assert len(out) == len(rows), "duplicate samples for one (location, metric, day)"
    return out


def disagreements(truth: dict[Any, Any], got: dict[Any, Any]) -> list[Any]:
    return sorted(((k, truth.get(k), got.get(k)) for k in set(truth) | set(got) if truth.get(k) != got.get(k)),
                  key=str)
