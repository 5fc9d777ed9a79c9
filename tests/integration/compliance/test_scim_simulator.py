"""The access check against a SCIM 2.0 server process (the bundled simulator) and against the CSV
export of the same accounts: paging, bearer authentication, SCIM errors, and the same findings."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from golive.tasks.compliance.access import MATRIX_ROLES, AccessMatrix, check_access
from golive.tasks.compliance.directory import Vocabulary, read_csv
from golive.tasks.compliance.scim import ERROR, LIST_RESPONSE, ScimError, read_directory
from golive.tasks.compliance.simulators import SIMULATOR_HEADER
from golive.tasks.compliance.simulators.process import SimulatorProcess, start_scim
from golive.tasks.foundation.paths import EXAMPLES
from golive.tasks.foundation.secrets import Secret
from golive.tasks.planning.organization import Organization

pytestmark = pytest.mark.integration
IDENTITY = EXAMPLES / "acme-dental" / "identity"


@pytest.fixture(scope="module")
def scim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    sim = start_scim(IDENTITY / "directory.json", log_file=tmp_path_factory.mktemp("scim") / "scim.log")
    try:
        yield sim
    finally:
        sim.stop()


def _vocabulary(org: Organization) -> Vocabulary:
    return Vocabulary(MATRIX_ROLES, [(loc.id, loc.name) for loc in org.locations])


def test_the_server_speaks_scim(scim: SimulatorProcess) -> None:
    auth = {"Authorization": f"Bearer {scim.token}"}
    page = httpx.get(f"{scim.url}/Users", params={"startIndex": 0, "count": 3}, headers=auth)
    body = page.json()
    assert page.headers["content-type"].startswith("application/scim+json") and page.headers[SIMULATOR_HEADER] == "scim"
    assert body["schemas"] == [LIST_RESPONSE] and body["startIndex"] == 1 and body["itemsPerPage"] == 3
    assert body["totalResults"] == len(json.loads((IDENTITY / "directory.json").read_text())["Users"])
    assert all(isinstance(u["groups"], list) for u in body["Resources"])  # read-only attribute, computed
    refused = httpx.get(f"{scim.url}/Users", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.json()["schemas"] == [ERROR]
    assert httpx.get(f"{scim.url}/Users", params={"filter": 'userName eq "x"'}, headers=auth).status_code == 400


def test_all_pages_are_read_and_one_violation_is_found(scim: SimulatorProcess, acme: Organization) -> None:
    directory = read_directory(scim.url, Secret("env:SCIM", scim.token), _vocabulary(acme), page_size=7)
    resources = json.loads((IDENTITY / "directory.json").read_text())
    assert len(directory.accounts) == len(resources["Users"])
    report = check_access(directory, AccessMatrix.from_organization(acme), locations=[loc.id for loc in acme.locations])
    assert report.violations == 1 and report.not_verified == ()
    assert [(f.user_name, f.location, f.kind.value) for f in report.findings] == [
        ("grace.lind.27@acme-dental.example", "riverside-ortho", "beyond_matrix")]


def test_scim_and_the_csv_export_agree(scim: SimulatorProcess, acme: Organization) -> None:
    vocabulary = _vocabulary(acme)
    matrix = AccessMatrix.from_organization(acme)
    locations = [loc.id for loc in acme.locations]
    over_scim = check_access(read_directory(scim.url, Secret("env:SCIM", scim.token), vocabulary), matrix,
                             locations=locations).to_dict()
    from_csv = check_access(read_csv(IDENTITY / "directory.csv", vocabulary), matrix, locations=locations).to_dict()
    for key in ("accounts", "violations", "counts", "findings", "locations", "not_verified"):
        assert over_scim[key] == from_csv[key], key


def test_a_wrong_token_is_a_scim_error_without_the_token(scim: SimulatorProcess, acme: Organization) -> None:
    with pytest.raises(ScimError, match=r"token was refused \(401\)") as caught:
        read_directory(scim.url, Secret("env:SCIM", "not-the-token"), _vocabulary(acme))
    assert "not-the-token" not in str(caught.value)


def test_a_provider_that_stops_short_is_caught(acme: Organization) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startIndex"])
        resources = [{"id": "1", "userName": "a@x"}] if start == 1 else []
        return httpx.Response(200, json={"schemas": [LIST_RESPONSE], "totalResults": 3, "startIndex": start,
                                         "itemsPerPage": len(resources), "Resources": resources})

    with pytest.raises(ScimError, match="3 resources announced, 1 delivered"):
        read_directory("https://idp.example/scim/v2", Secret("env:X", "t"), _vocabulary(acme),
                       transport=httpx.MockTransport(handler))


def test_tokens_do_not_travel_in_clear(acme: Organization) -> None:
    from golive.tasks.foundation.errors import UserInputError

    with pytest.raises(UserInputError, match="plain http is allowed only on this machine"):
        read_directory("http://idp.example/scim/v2", Secret("env:X", "t"), _vocabulary(acme))

