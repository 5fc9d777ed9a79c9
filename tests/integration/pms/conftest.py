from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pms_support import SIM_THROTTLE_S, pms_store

from golive.tasks.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = pms_store(tmp_path / "golive.db")
    yield s
    s.dispose()


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_PSEUDONYM_KEY", "test-key")


@pytest.fixture(autouse=True)
def _environ_restored() -> Iterator[None]:
    """`golive pms check` run in-process sets Prefect's defaults in os.environ; later tests must not see them."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


from golive.tasks.pms.simulator.process import SimProcess, start_simulator  # noqa: E402


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """The Open Dental simulator as a real process on a free 127.0.0.1 port, one for the session
    (`clean_sim` resets its rows and settings for each test), stopped at the end."""
    d = tmp_path_factory.mktemp("sim")
    proc = start_simulator(d / "sim.db", patients=40, seed=3, throttle_s=SIM_THROTTLE_S, log_file=d / "sim.log")
    yield proc
    proc.stop()


DEFAULTS = {"version": "25.3.20.0", "api_enabled": True, "storage": "AtoZ", "gone": [], "throttle_s": SIM_THROTTLE_S,
            "error_rate": 0, "transient_400_rate": 0, "rate_limit_rate": 0, "latency_s": 0,
            "drop_after_commit_rate": 0, "retry_after_s": 1.0, "seed": 0}


@pytest.fixture
def clean_sim(sim: SimProcess) -> Iterator[SimProcess]:
    """The shared simulator, seeded rows only, faults off, a current version; restored after the test."""
    sim.configure(**DEFAULTS)
    sim.reset()
    yield sim
    sim.configure(**DEFAULTS)
