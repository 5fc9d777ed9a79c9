"""Dentrix and Eaglesoft connectors against their SQLite stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from golive.tasks.pms.battery import Status
from golive.tasks.pms.check import run_checks
from golive.tasks.pms.config import connect, settings_for
from golive.tasks.pms.dentrix import DentrixConnector, make_engine
from golive.tasks.pms.protocol import PmsConnector, PmsNotSupported
from golive.tasks.pms.simulator.standins import build_dentrix, build_eaglesoft
from golive.tasks.store import Store


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
    assert "database connection" in results["auth"].summary and "API" not in results["auth"].summary
    assert results["code_mapping"].status is Status.PASSED
    assert results["nondestructive"].status is Status.PASSED
    for name in ("writeback", "imaging_passthrough", "attachment", "patient_read"):
        assert results[name].status is Status.NOT_SUPPORTED, name
        assert "not supported by this route" in results[name].summary


def test_unreadable_version_is_not_verified_with_the_recorded_one(tmp_path: Path, store: Store) -> None:
    db = build_dentrix(tmp_path / "d.db")

    def no_api(engine: object) -> str:  # a site where GetDentrixVersion is not exposed to SQL
        with create_engine("sqlite://").connect() as c:
            return str(c.execute(text("SELECT GetDentrixVersion()")).scalar_one())

    conn = DentrixConnector(make_engine(f"sqlite:///{db}"), no_api)
    r = run_checks(conn, location="w", store=store, test_patient=None, checks=["version"], reported_version="G7.7")[0]
    assert r.status is Status.NOT_VERIFIED and "G7.7" in r.summary and "at or above" in r.summary
    r = run_checks(conn, location="w", store=store, test_patient=None, checks=["version"])[0]
    assert r.status is Status.FAILED
    conn.close()


def test_refused_credentials_say_database_connection(tmp_path: Path, store: Store) -> None:
    """Dentrix and Eaglesoft are reached over a database connection: that is what the wording names."""
    from golive.tasks.pms.protocol import PmsAuthError

    class Refusing(DentrixConnector):
        def check_auth(self) -> None:
            raise PmsAuthError("checking access: the database connection refused the credentials or the view")

    conn = Refusing(make_engine(f"sqlite:///{build_dentrix(tmp_path / 'd.db')}"), lambda e: "G7.7")
    r = run_checks(conn, location="w", store=store, test_patient=None, checks=["auth"])[0]
    assert r.status is Status.FAILED and r.summary.startswith("the database connection refused the credentials")
    assert "API" not in r.summary
    conn.close()
