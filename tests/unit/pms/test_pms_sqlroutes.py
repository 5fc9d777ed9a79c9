"""Dentrix and Eaglesoft connectors against their SQLite stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.pms.battery import Status
from tasks.pms.check import run_checks
from tasks.pms.config import connect, settings_for
from tasks.pms.protocol import PmsConnector, PmsNotSupported
from tasks.pms.simulator.standins import build_dentrix, build_eaglesoft
from tasks.store import Store


@pytest.fixture(params=["dentrix", "eaglesoft"])
def route(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PmsConnector]:
    build = build_dentrix if request.param == "dentrix" else build_eaglesoft
    db = build(tmp_path / f"{request.param}.db", patients=25)
    conn = connect(settings_for({"pms": {"product": request.param, "connection": {"dsn": f"sqlite:///{db}"}}}))
    yield conn
    conn.close()


def test_reads_version_patients_procedures_and_codes(route: PmsConnector) -> None:
    assert route.version().at_least("7.4" if route.system == "dentrix" else "21.0")
    route.check_auth()
    pats = list(route.patients(page_size=10))
    assert len(pats) == 25 and len({p.patient_id for p in pats}) == 25
    assert route.procedures(pats[0].patient_id)[0].code.startswith("D")
    assert "D6010" in {c.code for c in route.procedure_codes()}
    assert "modelled on third-party documentation" in route.capabilities().route


def test_writes_are_not_supported_by_this_route(route: PmsConnector) -> None:
    with pytest.raises(PmsNotSupported, match="not supported by this route"):
        route.create_treatment_plan("1", "h", "n")


def test_battery_never_passes_what_the_route_cannot_do(route: PmsConnector, store: Store) -> None:
    results = {r.check: r for r in run_checks(route, location="west", store=store, test_patient="1")}
    assert results["version"].status is Status.PASSED
    assert results["auth"].status is Status.PASSED
    assert results["code_mapping"].status is Status.PASSED
    assert results["nondestructive"].status is Status.PASSED
    for name in ("writeback", "imaging_passthrough", "attachment", "patient_read"):
        assert results[name].status is Status.NOT_SUPPORTED, name
        assert "not supported by this route" in results[name].summary
