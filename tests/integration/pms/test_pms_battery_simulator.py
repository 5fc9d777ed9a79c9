"""The whole battery against the simulator process, per Open Dental version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from golive.tasks.pms.battery import Status
from golive.tasks.pms.check import run_checks
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.protocol import ClinicalRecord, PmsConnector
from golive.tasks.pms.simulator.process import SimProcess
from golive.tasks.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
def od(clean_sim: SimProcess) -> Iterator[OpenDentalConnector]:
    conn = OpenDentalConnector(clean_sim.url, clean_sim.developer_key, clean_sim.customer_key,
                               allow_insecure_local=True)
    yield conn
    conn.close()


def _results(conn: PmsConnector, store: Store) -> dict[str, object]:
    return {r.check: r for r in run_checks(conn, location="downtown", store=store, test_patient="1")}


def test_all_checks_pass_on_a_current_version(od: OpenDentalConnector, store: Store,
                                              clean_sim: SimProcess) -> None:
    results = _results(od, store)
    assert {k: r.status for k, r in results.items()} == {k: Status.PASSED for k in results}  # type: ignore[attr-defined]
    assert results["writeback"].evidence["procedures_attached"] == 3  # type: ignore[attr-defined]
    assert not [p for p in clean_sim.treatplans() if "golive-idem:" in p["Note"]]  # removed again


def test_attach_not_supported_before_23_2_17_is_not_a_pass(od: OpenDentalConnector, store: Store,
                                                          clean_sim: SimProcess) -> None:
    clean_sim.configure(version="23.1.5.0")
    r = _results(od, store)["writeback"]
    assert r.status is Status.NOT_SUPPORTED and "23.2.17" in r.summary  # type: ignore[attr-defined]
    assert r.evidence["removed"] is True  # type: ignore[attr-defined]


def test_no_treatment_plans_before_22_4_16(od: OpenDentalConnector, store: Store, clean_sim: SimProcess) -> None:
    clean_sim.configure(version="22.2.1.0")
    results = _results(od, store)
    assert results["version"].status is Status.PASSED  # type: ignore[attr-defined]
    assert results["writeback"].status is Status.NOT_SUPPORTED  # type: ignore[attr-defined]
    assert "22.4.16" in results["writeback"].summary  # type: ignore[attr-defined]


def test_old_version_fails_the_version_check(od: OpenDentalConnector, store: Store, clean_sim: SimProcess) -> None:
    clean_sim.configure(version="21.4.20.0")
    assert run_checks(od, location="d", store=store, test_patient="1", checks=["version"])[0].status is Status.FAILED


def test_wrong_keys_fail_auth(clean_sim: SimProcess, store: Store) -> None:
    conn = OpenDentalConnector(clean_sim.url, "nope", "nope", allow_insecure_local=True)
    r = run_checks(conn, location="d", store=store, test_patient="1", checks=["auth"])[0]
    assert r.status is Status.FAILED and "credentials refused" in r.summary


class EditedDuringTest(OpenDentalConnector):
    """Someone at the front desk edits a record while the read-only test runs."""

    sim: SimProcess

    def clinical_record(self, patient_id: str) -> ClinicalRecord:
        rec = super().clinical_record(patient_id)
        if patient_id == "4":
            self.sim.touch(4)
        return rec


def test_nondestructive_detects_a_changed_stamp(clean_sim: SimProcess, store: Store, tmp_path: object) -> None:
    conn = EditedDuringTest(clean_sim.url, clean_sim.developer_key, clean_sim.customer_key,
                            allow_insecure_local=True)
    conn.sim = clean_sim
    r = run_checks(conn, location="d", store=store, test_patient="1", checks=["nondestructive"])[0]
    assert r.status is Status.FAILED and len(r.evidence["changed"]) == 1
