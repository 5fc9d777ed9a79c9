"""The whole battery against the simulator process at the example locations' Open Dental versions.

Each check's outcome is the one the documentation implies for that version (the route table's
"Version Added"): "not verified on version X (needs Y)" where a route is missing, and then nothing
is created: the simulator's tables hold exactly the seeded rows afterwards, and no write was sent.
"""

from __future__ import annotations

import pytest
from pms_support import od_connector

from golive.tasks.pms.battery import Status
from golive.tasks.pms.check import ALL_CHECKS, plan_battery, run_checks
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.protocol import ClinicalRecord
from golive.tasks.pms.routes import ROUTES
from golive.tasks.pms.simulator.process import SimProcess
from golive.tasks.store import Store

pytestmark = pytest.mark.integration

P, NV = Status.PASSED, Status.NOT_VERIFIED
# version -> check -> (status, the version the summary says is needed)
EXPECTED: dict[str, dict[str, tuple[Status, str | None]]] = {
    "22.1.30": {"version": (P, None), "auth": (P, None), "patient_read": (NV, "22.4.27"),  # PatPlans GET
                "writeback": (NV, "24.4.26"), "code_mapping": (NV, "22.3.22"), "nondestructive": (P, None),
                "imaging_passthrough": (P, None), "attachment": (NV, "24.2.32")},
    "23.1.12": {"version": (P, None), "auth": (P, None), "patient_read": (P, None), "writeback": (NV, "24.4.26"),
                "code_mapping": (P, None), "nondestructive": (P, None), "imaging_passthrough": (P, None),
                "attachment": (NV, "24.2.32")},
    "24.4.8": {"version": (P, None), "auth": (P, None), "patient_read": (P, None), "writeback": (NV, "24.4.26"),
               "code_mapping": (P, None), "nondestructive": (P, None), "imaging_passthrough": (P, None),
               "attachment": (P, None)},
    "24.4.26": dict.fromkeys(ALL_CHECKS, (P, None)),
    "25.3.20": dict.fromkeys(ALL_CHECKS, (P, None)),
}


@pytest.mark.parametrize("version", list(EXPECTED))
def test_battery_outcomes_per_documented_version(version: str, clean_sim: SimProcess, store: Store) -> None:
    clean_sim.configure(version=version)
    before = clean_sim.counts()
    conn = od_connector(clean_sim)
    plan = {p.check: p.requests for p in plan_battery(conn, ALL_CHECKS, test_patient="1", code_pages=1)}
    sent_before = conn.requests_sent
    per_check: dict[str, int] = {}

    def started(index: int, name: str) -> None:
        per_check[name] = conn.requests_sent

    results = {r.check: r for r in run_checks(conn, location="brookside", store=store, test_patient="1",
                                              on_start=started)}
    conn.close()
    got = {k: (r.status, r.evidence.get("needs")) for k, r in results.items()}
    assert got == EXPECTED[version], {k: r.summary for k, r in results.items()}
    for name, (status, needs) in EXPECTED[version].items():
        if status is NV:
            assert f"not verified on version {version} (needs {needs})" in results[name].summary
    # Nothing left behind anywhere, and where the DELETE is missing, nothing was even sent.
    assert clean_sim.counts() == before
    if EXPECTED[version]["writeback"][0] is NV:
        assert conn.calls["POST /treatplans"] == 0 and conn.calls["POST /treatplanattaches"] == 0
    if EXPECTED[version]["attachment"][0] is NV:
        assert conn.calls["POST /documents/Upload"] == 0
    # The estimate `golive pms check` shows is what the checks really sent.
    order = list(per_check) + ["end"]
    per_check["end"] = conn.requests_sent
    actual = {name: per_check[order[i + 1]] - per_check[name] for i, name in enumerate(order[:-1])}
    assert actual == plan and sent_before == 1  # the one version read, before the plan
    assert set(conn.calls) <= {r.name for r in ROUTES}


def test_writeback_evidence_on_a_current_version(clean_sim: SimProcess, store: Store) -> None:
    conn = od_connector(clean_sim)
    r = run_checks(conn, location="downtown", store=store, test_patient="1", checks=["writeback"])[0]
    conn.close()
    assert r.status is P and r.evidence["procedures_attached"] == 3 and r.evidence["removed"] is True
    assert not [p for p in clean_sim.treatplans() if "golive-idem:" in p["Note"]]


def test_old_version_fails_the_version_check(clean_sim: SimProcess, store: Store) -> None:
    clean_sim.configure(version="21.4.20.0")
    conn = od_connector(clean_sim)
    assert run_checks(conn, location="d", store=store, test_patient="1", checks=["version"])[0].status is Status.FAILED


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


def test_nondestructive_detects_a_changed_stamp(clean_sim: SimProcess, store: Store) -> None:
    conn = EditedDuringTest(clean_sim.url, clean_sim.developer_key, clean_sim.customer_key, allow_insecure_local=True)
    conn.pacer.interval_s = 0.0
    conn.sim = clean_sim
    r = run_checks(conn, location="d", store=store, test_patient="1", checks=["nondestructive"])[0]
    assert r.status is Status.FAILED and len(r.evidence["changed"]) == 1
