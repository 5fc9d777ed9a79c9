"""Exactly-once under SIGKILL: kill a run at instrumented points (before a step's effect, after
it and before its commit, after the commit) and at random instants, resume with the same run key,
and check every effect exists once, the audit log verifies and no run is left `running`.

`make test` runs a fixed subset (12 kills, SQLite and PostgreSQL, plus the 3 points of the PMS
write-back check against the Open Dental simulator on SQLite); `make soak` runs every point of every
kind on both backends plus random-delay kills (>= 50 kills), and the PMS points on PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_support import (
    ALL_POINTS,
    ATTACH_POINTS,
    ATTACH_RUNBOOK,
    DELETION_POINTS,
    DELETION_RUNBOOK,
    DICOM_POINTS,
    DICOM_RUNBOOK,
    FIXTURES,
    PMS_POINTS,
    PMS_RUNBOOK,
    Harness,
    attachment_checker,
    count_document_creates,
    count_treatplan_creates,
    deletion_checker,
    dicom_checker,
    pms_checker,
    start_counting_orthanc,
)
from pms_support import CLIENT_INTERVAL_S, SIM_THROTTLE_S

SEED = 10


@pytest.fixture
def api_url(prefect_server: None) -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the session's Prefect test server has no API URL"
    return str(url)


def _env(tmp_path: Path, db_url: str | None) -> dict[str, str]:
    env = {"GOLIVE_HOME": str(tmp_path / ".golive"), "GOLIVE_OUT": str(tmp_path / "out"),
           "GOLIVE_ORG": str(FIXTURES / "organization-min.yaml"), "GOLIVE_AUDIT_KEY": "crash-test-key"}
    if db_url:
        env["GOLIVE_DATABASE_URL"] = db_url
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres])])
def harness(request: pytest.FixtureRequest, tmp_path: Path, api_url: str) -> Iterator[Harness]:
    db_url = None
    if request.param == "postgres":
        from store_fixtures import _reset_pg_schema

        db_url = request.getfixturevalue("pg_database")
        _reset_pg_schema(db_url)
    yield Harness(api_url, _env(tmp_path, db_url), tmp_path)


# The default subset (12 kills, seeded and fixed): the points where the old engine duplicated
# (after the effect, before the step's result) for every store kind on one backend or the other.
# In each chain a later point's step depends on the earlier one, so every point fires; random
# instants are left to `make soak`.
SEEDED = {
    "sqlite": [["checklist:effect", "approval:effect", "rollout.set:effect"], ["notify:after"],
               ["metrics.simulate:before", "gate:effect"], ["compliance.vendor_request:effect"]],
    "postgres": [["checklist:after", "approval:after", "rollout.set:after"], ["metrics.simulate:effect", "gate:after"]],
}


def test_seeded_kills_resume_exactly_once(harness: Harness, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["harness"]
    for i, chain in enumerate(SEEDED[backend]):
        harness.chain(f"crash-seeded-{i}", chain)
    print("\n".join(harness.log))
    assert harness.kills == sum(map(len, SEEDED[backend])), harness.log


@pytest.mark.slow
def test_soak_every_point_and_random_kills(harness: Harness) -> None:
    """Every (kind, point) in its own chain, then 8 random-instant kills each on a fresh key: 26
    kills per backend. The log says which kills landed after the run had started (`crashed` runs)."""
    rng = random.Random(SEED)
    for i, point in enumerate(ALL_POINTS):
        harness.chain(f"soak-{i}", [point])
    point_kills = harness.kills
    for i in range(16):  # until 8 random-instant kills have landed (a late one finds the run done)
        if harness.kills - point_kills >= 8:
            break
        harness.chain(f"soak-random-{i}", [], rng=rng, random_kills=1)
    print("\n".join(harness.log))
    print(f"{harness.kills} kills; {harness.crashed_runs()} of them after the run had started")
    assert harness.kills >= 26, harness.log


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def pms_harness(request: pytest.FixtureRequest, tmp_path: Path, api_url: str) -> Iterator[Harness]:
    """The harness on the PMS write-back runbook, against an Open Dental simulator process whose
    database counts every treatment-plan create (deleted plans included)."""
    from golive.tasks.foundation.paths import DEFAULT_ORG
    from golive.tasks.pms.simulator.process import start_simulator

    db_url = None
    if request.param == "postgres":
        from store_fixtures import _reset_pg_schema

        db_url = request.getfixturevalue("pg_database")
        _reset_pg_schema(db_url)
    sim = start_simulator(tmp_path / "sim.db", patients=30, seed=9, throttle_s=SIM_THROTTLE_S,
                          log_file=tmp_path / "sim.log")
    try:
        count_treatplan_creates(sim.db)
        count_document_creates(sim.db)
        env = _env(tmp_path, db_url) | {"GOLIVE_ORG": str(DEFAULT_ORG), "GOLIVE_PSEUDONYM_KEY": "crash-pms-key",
                                        "E2E_OD_CUSTOMER": sim.customer_key, "E2E_OD_DEVELOPER": sim.developer_key}
        params = {"location": "eastside-specialty", "test_patient": 1,
                  "pms_connection": {"base_url": sim.url, "secret": "env:E2E_OD_CUSTOMER",
                                     "developer_secret": "env:E2E_OD_DEVELOPER", "allow_insecure_local": True,
                                     "request_interval_s": CLIENT_INTERVAL_S}}
        yield Harness(api_url, env, tmp_path, runbook=PMS_RUNBOOK, parameters=params, decisions={},
                      check=pms_checker(sim.db, "eastside-specialty", "1"))
    finally:
        sim.stop()


def test_pms_writeback_kills_resume_with_one_create_per_run_key(pms_harness: Harness) -> None:
    """Kill the write-back check before it runs; after it wrote and read back its test plan and
    committed `removing`, before the delete (the resume deletes it, never writes again); after it
    removed the plan, before the step's result committed (the resume must not write a second plan);
    and after the commit. Then a second run key, which does its own check (one create of its own)."""
    pms_harness.chain("crash-pms-0", PMS_POINTS)
    pms_harness.chain("crash-pms-1", [])
    print("\n".join(pms_harness.log))
    assert pms_harness.kills == len(PMS_POINTS), pms_harness.log


def _attachment(pms_harness: Harness) -> Harness:
    from dataclasses import replace

    return replace(pms_harness, runbook=ATTACH_RUNBOOK,
                   check=attachment_checker(pms_harness.workdir / "sim.db", "eastside-specialty", "1"))


def test_pms_attachment_kills_resume_with_one_upload_per_run_key(pms_harness: Harness) -> None:
    """The image upload as an intent: kill after the intent committed (before the upload), and
    after the upload with `removing` committed (before the delete); each resume with the run key
    finds its own image by the intent's marker: one upload per run key, none left, intent `done`."""
    harness = _attachment(pms_harness)
    points = ATTACH_POINTS[:2]
    harness.chain("crash-attach-0", points)
    harness.chain("crash-attach-1", [])
    print("\n".join(harness.log))
    assert harness.kills == len(points), harness.log


@pytest.mark.slow
def test_pms_attachment_every_point(pms_harness: Harness) -> None:
    """Every attachment point in one chain (intent, removing, after the kind ran, after the commit)."""
    harness = _attachment(pms_harness)
    harness.chain("soak-attach-0", ATTACH_POINTS)
    print("\n".join(harness.log))
    assert harness.kills == len(ATTACH_POINTS), harness.log


@pytest.fixture
def dicom_harness(harness: Harness, tmp_path: Path) -> Iterator[Harness]:
    """The harness on the DICOM send runbook, against an Orthanc PACS that logs every C-STORE."""
    from dataclasses import replace

    import pydicom

    from golive.tasks.imaging.phantom import write_phantom

    write_phantom(tmp_path / "phantom", seed=3)
    series = tmp_path / "phantom" / "series"
    uids = {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in series.iterdir()}
    peer, counts, proc = start_counting_orthanc(tmp_path)
    try:
        yield replace(harness, runbook=DICOM_RUNBOOK, decisions={},
                      parameters={"series": str(series), "host": peer.host, "port": peer.port},
                      check=dicom_checker(counts, uids))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dicom_send_kill_after_sending_resumes_without_resending(dicom_harness: Harness) -> None:
    """Kill after every instance was C-STOREd but before the intent is `done`: the resume reads the
    peer (C-FIND), sends nothing again, verifies by C-GET. Orthanc logs one C-STORE per instance."""
    dicom_harness.chain("crash-dicom-0", ["imaging.dicom_send:sent"])
    print("\n".join(dicom_harness.log))
    assert dicom_harness.kills == 1, dicom_harness.log


@pytest.mark.slow
def test_dicom_send_every_point(dicom_harness: Harness) -> None:
    """Every DICOM send point in one chain: intent (nothing sent), sent, after the kind ran, after the commit."""
    dicom_harness.chain("soak-dicom-0", DICOM_POINTS)
    print("\n".join(dicom_harness.log))
    assert dicom_harness.kills == len(DICOM_POINTS), dicom_harness.log


@pytest.fixture
def deletion_harness(harness: Harness, tmp_path: Path) -> Iterator[Harness]:
    """The harness on the deletion-on-request runbook, against the platform API simulator (plain
    http on loopback), whose status counts erasure requests."""
    from dataclasses import replace

    from golive.tasks.compliance.simulators.process import start_platform

    platform = start_platform(log_file=tmp_path / "platform.log")
    try:
        yield replace(harness, runbook=DELETION_RUNBOOK, decisions={}, parameters={"base_url": platform.url},
                      env={**harness.env, "E2E_PLATFORM_TOKEN": platform.token},
                      check=deletion_checker(lambda: int(platform.admin("/_sim/status")["deletion_requests"])))
    finally:
        platform.stop()


@pytest.mark.slow
def test_deletion_test_every_point(deletion_harness: Harness) -> None:
    """Kill before any call (intent committed), with the erasure requested (intent not `done`), after
    the kind ran, after the commit: one erasure request in all, the resume answered by the
    platform's Idempotency-Key de-duplication."""
    deletion_harness.chain("soak-deletion-0", DELETION_POINTS)
    print("\n".join(deletion_harness.log))
    assert deletion_harness.kills == len(DELETION_POINTS), deletion_harness.log
