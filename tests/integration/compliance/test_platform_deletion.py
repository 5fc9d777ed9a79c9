"""The deletion-on-request workflow against the platform API simulator process, served over TLS
with a certificate from a test CA (so the same endpoint also passes the TLS check), and with the
faults that must fail it: studies left behind, a stale search index, an erasure that never ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from compliance_support import make_ca, make_leaf

from golive.tasks.compliance.deletion import PlatformClient, PlatformError, run_deletion
from golive.tasks.compliance.endpoint import host_port
from golive.tasks.compliance.simulators.process import SimulatorProcess, start_platform
from golive.tasks.compliance.tls import check_tls
from golive.tasks.foundation.secrets import Secret

pytestmark = pytest.mark.integration
PATIENT = "TEST-PATIENT-0001"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    folder = tmp_path_factory.mktemp("platform")
    now = datetime.now(UTC)
    ca = make_ca(folder)
    leaf = make_leaf(folder, "platform", ca=ca, not_before=now - timedelta(days=1), not_after=now + timedelta(days=200))
    sim = start_platform(certfile=str(leaf.cert), keyfile=str(leaf.key), ca_file=str(ca.pem.cert),
                         log_file=folder / "platform.log")
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def client(platform: SimulatorProcess) -> Iterator[PlatformClient]:
    platform.admin("/_sim/config", {"keep_studies": False, "stale_search": False, "never_complete": False})
    with PlatformClient(platform.url, Secret("env:T", platform.token), ca_file=platform.ca_file) as c:
        yield c


def test_the_test_patient_is_erased_and_proven_gone(client: PlatformClient, platform: SimulatorProcess) -> None:
    before = platform.admin("/_sim/status")["deletion_requests"]
    result = run_deletion(client, PATIENT, poll_s=0.05)
    assert result.passed, result.to_dict()
    assert [s.name for s in result.steps] == ["seed", "request", "complete", "verify"]
    assert platform.admin("/_sim/status")["deletion_requests"] == before + 1
    assert PATIENT not in str(result.to_dict())  # results say "the test patient", never its reference


def test_a_resumed_erasure_with_its_key_is_the_same_request(client: PlatformClient, platform: SimulatorProcess) -> None:
    """A run killed after its erasure request (its intent still `intended`) resumes with the same
    key: the platform answers with the earlier request, nothing is seeded or erased twice. A run
    killed before it seeded resumes by seeding, then requesting once."""
    before = platform.admin("/_sim/status")["deletion_requests"]
    first = run_deletion(client, PATIENT, poll_s=0.05, key="resume-key-1")
    again = run_deletion(client, PATIENT, poll_s=0.05, key="resume-key-1", resumed=True)
    assert first.passed and again.passed, (first.to_dict(), again.to_dict())
    assert again.request_id == first.request_id and again.steps[0].detail.startswith("seeded by an earlier attempt")
    assert platform.admin("/_sim/status")["deletion_requests"] == before + 1
    fresh = run_deletion(client, PATIENT, poll_s=0.05, key="resume-key-2", resumed=True)  # killed before seeding
    assert fresh.passed and fresh.request_id != first.request_id, fresh.to_dict()
    assert fresh.steps[0].detail.startswith("the test patient has 1 synthetic")
    assert platform.admin("/_sim/status")["deletion_requests"] == before + 2


@pytest.mark.parametrize(("fault", "remaining"), [
    ("keep_studies", "1 study(ies) under the patient"),
    ("stale_search", "1 study(ies) in the study search"),
])
def test_data_left_behind_fails_the_check(client: PlatformClient, platform: SimulatorProcess, fault: str,
                                          remaining: str) -> None:
    platform.admin("/_sim/config", {fault: True})
    result = run_deletion(client, f"{PATIENT}-{fault}", poll_s=0.05)
    assert not result.passed and remaining in result.remaining


def test_an_erasure_that_never_completes_fails_at_its_deadline(client: PlatformClient, platform: SimulatorProcess) -> None:
    platform.admin("/_sim/config", {"never_complete": True})
    ticks = iter(range(1000))
    result = run_deletion(client, f"{PATIENT}-slow", max_wait_s=3, poll_s=0, clock=lambda: float(next(ticks)),
                          sleep=lambda _s: None)
    assert not result.passed and result.steps[-1].name == "complete" and "not completed within 3 s" in result.steps[-1].detail


def test_a_wrong_token_and_an_untrusted_certificate_are_refused(platform: SimulatorProcess) -> None:
    with PlatformClient(platform.url, Secret("env:T", "wrong"), ca_file=platform.ca_file) as c, \
            pytest.raises(PlatformError, match="refused the API token"):
        run_deletion(c, PATIENT)
    with PlatformClient(platform.url, Secret("env:T", platform.token)) as c, pytest.raises(PlatformError):
        run_deletion(c, PATIENT)  # the system trust store does not know the test CA


def test_the_simulated_endpoint_passes_the_tls_check_with_its_ca(platform: SimulatorProcess) -> None:
    host, port = host_port(platform.root)
    report = check_tls(host, port, server_name="localhost", ca_file=platform.ca_file)
    assert report.passed, report.to_dict()
    health = httpx.get(f"{platform.root}/api/v1/health", verify=platform.ca_file)
    assert health.json()["simulator"] is True and health.headers["x-golive-simulator"] == "platform"

