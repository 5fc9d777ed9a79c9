"""Contract tests against a real Open Dental API. They run only when OPENDENTAL_URL,
OPENDENTAL_DEVELOPER_KEY and OPENDENTAL_CUSTOMER_KEY are set, and only READ (plus, when
OPENDENTAL_TEST_PATIENT names a designated test patient, the write-back on that patient)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice

import pytest

from golive.tasks.pms.battery import Status
from golive.tasks.pms.check import run_checks
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.store import Store

NEEDED = ("OPENDENTAL_URL", "OPENDENTAL_DEVELOPER_KEY", "OPENDENTAL_CUSTOMER_KEY")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not all(os.environ.get(n) for n in NEEDED),
                       reason="no real Open Dental: set OPENDENTAL_URL, OPENDENTAL_DEVELOPER_KEY and "
                              "OPENDENTAL_CUSTOMER_KEY to run the contract tests"),
]


@pytest.fixture
def real() -> Iterator[OpenDentalConnector]:
    conn = OpenDentalConnector(os.environ["OPENDENTAL_URL"], os.environ["OPENDENTAL_DEVELOPER_KEY"],
                               os.environ["OPENDENTAL_CUSTOMER_KEY"])
    yield conn
    conn.close()


def test_version_and_auth(real: OpenDentalConnector) -> None:
    real.check_auth()
    assert real.version().parts[0] >= 20


def test_patients_page_and_carry_the_documented_fields(real: OpenDentalConnector) -> None:
    first = list(islice(real.patients(), 120))
    assert first and all(p.patient_id.isdigit() for p in first)
    assert real.last_server_time  # serverDateTime, for the next incremental sync


def test_procedure_codes_include_cdt_codes(real: OpenDentalConnector) -> None:
    assert any(c.code.startswith("D") for c in real.procedure_codes())


def test_read_only_checks(real: OpenDentalConnector, store: Store) -> None:
    results = run_checks(real, location="contract", store=store, test_patient=None,
                         checks=["version", "auth", "nondestructive"])
    assert [r.status for r in results] == [Status.PASSED] * 3, [r.summary for r in results]


@pytest.mark.skipif(not os.environ.get("OPENDENTAL_TEST_PATIENT"),
                    reason="set OPENDENTAL_TEST_PATIENT to the PatNum of a designated test patient to test write-back")
def test_writeback_on_the_designated_test_patient(real: OpenDentalConnector, store: Store) -> None:
    r = run_checks(real, location="contract", store=store, test_patient=os.environ["OPENDENTAL_TEST_PATIENT"],
                   checks=["writeback"])[0]
    assert r.status in (Status.PASSED, Status.NOT_SUPPORTED), r.summary
    if r.status is Status.PASSED:  # a write-back that happened must have been removed again
        assert r.evidence["removed"] is True
