"""Helpers shared by the PMS tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.pacing import Pacer
from golive.tasks.store import Store

# The simulator's throttle and the client's pacing, scaled down from the documented 5 s so the
# suite runs fast; the client keeps a margin over the server, as a real client must over the network.
SIM_THROTTLE_S = 0.002
CLIENT_INTERVAL_S = 0.004


def pms_store(path: Path) -> Store:
    """A store at `path`, migrated to head, which includes 0004_pms (the write-back keys)."""
    store = Store.open(f"sqlite:///{path}")
    assert "pms_writebacks" in inspect(store.engine).get_table_names()
    return store


def od_connector(sim: Any, interval_s: float = CLIENT_INTERVAL_S, **kw: Any) -> OpenDentalConnector:
    """An Open Dental connector to a simulator process, paced at `interval_s`."""
    return OpenDentalConnector(sim.url, sim.developer_key, sim.customer_key, allow_insecure_local=True,
                               pacer=Pacer(interval_s), **kw)
