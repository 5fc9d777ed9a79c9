"""The Access Control Matrix against accounts: each kind of finding, per location, and what is not verified."""

from __future__ import annotations

from dataclasses import replace

import pytest

from golive.tasks.compliance.access import (
    MATRIX_ROLES,
    AccessMatrix,
    FindingKind,
    check_access,
    check_account,
)
from golive.tasks.compliance.directory import Account, Directory, Level, Permission, Vocabulary, read_csv
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import EXAMPLES
from golive.tasks.planning.organization import Organization

FRONT_DESK = Account("pat.jones@x.example", "Pat Jones", True, ("Front Desk",), ("riverside-ortho",),
                     ((Permission.BILLING, Level.FULL),), mfa=True)


@pytest.fixture(scope="module")
def matrix(acme: Organization) -> AccessMatrix:
    return AccessMatrix.from_organization(acme)


def _kinds(account: Account, matrix: AccessMatrix, leavers: frozenset[str] = frozenset()) -> list[FindingKind]:
    return [k for k, _ in check_account(account, matrix, leavers=leavers)]


def test_matrix_is_the_seven_roles_by_six_permissions_and_marked_an_assumption(matrix: AccessMatrix) -> None:
    assert set(matrix.rows) == set(MATRIX_ROLES)
    assert all(set(row) == set(Permission) for row in matrix.rows.values())
    assert matrix.basis == "assumption"
    assert matrix.rows["Hygienist"][Permission.VIEW_ANALYSIS] is Level.LIMITED
    assert matrix.rows["Office Manager"][Permission.ADMIN] is Level.LIMITED


def test_an_account_within_its_role_has_no_finding(matrix: AccessMatrix) -> None:
    assert _kinds(FRONT_DESK, matrix) == []


def test_permission_beyond_the_matrix(matrix: AccessMatrix) -> None:
    edits = replace(FRONT_DESK, grants=(*FRONT_DESK.grants, (Permission.EDIT_PLAN, Level.FULL)))
    found = check_account(edits, matrix)
    assert found == [(FindingKind.BEYOND_MATRIX, "edit_plan: holds full, Front Desk may hold none")]
    limited_too_much = replace(FRONT_DESK, roles=("Hygienist",), grants=((Permission.VIEW_ANALYSIS, Level.FULL),))
    assert _kinds(limited_too_much, matrix) == [FindingKind.BEYOND_MATRIX]
    # two roles: the most either allows
    both = replace(edits, roles=("Front Desk", "Provider"))
    assert _kinds(both, matrix) == []


def test_no_role_unknown_role_and_no_mfa(matrix: AccessMatrix) -> None:
    assert _kinds(replace(FRONT_DESK, roles=()), matrix) == [FindingKind.NO_ROLE]
    detail = check_account(replace(FRONT_DESK, roles=("Dentist",)), matrix)[0][1]
    assert "Dentist are not in the matrix" in detail
    assert _kinds(replace(FRONT_DESK, mfa=False), matrix) == [FindingKind.NO_MFA]
    assert _kinds(replace(FRONT_DESK, mfa=None), matrix) == []  # unknown: counted, not a violation


def test_leavers_active_and_deactivated_with_permissions(matrix: AccessMatrix) -> None:
    assert _kinds(FRONT_DESK, matrix, frozenset({"pat.jones@x.example"})) == [FindingKind.LEAVER]
    by_number = replace(FRONT_DESK, employee_number="E77")
    assert _kinds(by_number, matrix, frozenset({"e77"})) == [FindingKind.LEAVER]
    gone = replace(FRONT_DESK, active=False)
    assert _kinds(gone, matrix) == [FindingKind.LEAVER]
    assert _kinds(replace(gone, grants=()), matrix) == []  # deactivated and stripped: done right


@pytest.mark.parametrize(("change", "shared"), [
    ({"user_type": "Shared"}, True),
    ({"user_name": "frontdesk@x.example"}, True),
    ({"user_name": "reception.east@x.example"}, True),
    ({"personal_name": False}, True),
    ({"user_name": "frontdesker.pat@x.example"}, False),
])
def test_shared_accounts(matrix: AccessMatrix, change: dict[str, object], shared: bool) -> None:
    assert (FindingKind.SHARED in _kinds(replace(FRONT_DESK, **change), matrix)) is shared  # type: ignore[arg-type]


def test_declared_service_account_is_exempt_from_shared_and_mfa_not_from_the_matrix(matrix: AccessMatrix) -> None:
    svc = Account("svc-platform-integration", "", True, (), (), (), mfa=None, personal_name=False)
    assert _kinds(svc, matrix) == []
    assert _kinds(replace(svc, grants=((Permission.ADMIN, Level.FULL),)), matrix) == [FindingKind.NO_ROLE]


def test_findings_per_location_and_locations_without_accounts(matrix: AccessMatrix) -> None:
    edits = replace(FRONT_DESK, grants=((Permission.EDIT_PLAN, Level.FULL),))
    regional = Account("rm@x.example", "R M", True, ("Regional Manager",), (), (), mfa=False)
    two = replace(FRONT_DESK, user_name="float@x.example", locations=("riverside-ortho", "lakeview-implant"), mfa=None)
    report = check_access(Directory((edits, regional, two), "test"), matrix,
                          locations=["riverside-ortho", "lakeview-implant", "bayview"])
    by = {loc.location: loc for loc in report.locations}
    assert report.not_verified == ("bayview",)
    assert by["riverside-ortho"].accounts == 2 and [f.kind for f in by["riverside-ortho"].findings] == [FindingKind.BEYOND_MATRIX]
    assert not by["riverside-ortho"].passed("rbac") and not by["riverside-ortho"].passed("mfa")  # MFA unknown
    assert by["lakeview-implant"].passed("rbac") and by[""].findings[0].kind is FindingKind.NO_MFA
    assert report.violations == 2 and report.counts()["no_mfa"] == 1


def test_the_example_directory_has_exactly_one_violation(acme: Organization, matrix: AccessMatrix) -> None:
    vocabulary = Vocabulary(MATRIX_ROLES, [(loc.id, loc.name) for loc in acme.locations])
    directory = read_csv(EXAMPLES / "acme-dental" / "identity" / "directory.csv", vocabulary)
    report = check_access(directory, matrix, locations=[loc.id for loc in acme.locations])
    assert report.not_verified == () and report.violations == 1
    (finding,) = report.findings
    assert (finding.kind, finding.location) == (FindingKind.BEYOND_MATRIX, "riverside-ortho")


def test_an_organization_without_a_matrix_is_a_user_error(acme: Organization) -> None:
    with pytest.raises(UserInputError, match="no access_control matrix"):
        AccessMatrix.from_organization(replace(acme, access_control=None))
