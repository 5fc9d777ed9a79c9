"""Reading accounts: SCIM resources (roles, groups, entitlements, MFA extension) and the CSV export."""

from __future__ import annotations

import pytest

from golive.tasks.compliance.directory import (
    ENTERPRISE,
    MFA_EXTENSION,
    DirectoryInvalid,
    Level,
    Permission,
    Vocabulary,
    from_scim,
    parse_csv,
    parse_grant,
)

VOCAB = Vocabulary(("Provider", "Front Desk", "Central IT"), [("riverside-ortho", "Riverside Ortho"), ("bayview", "Bayview")])


@pytest.mark.parametrize(("text", "grant"), [
    ("edit_plan", (Permission.EDIT_PLAN, Level.FULL)),
    ("view_analysis:limited", (Permission.VIEW_ANALYSIS, Level.LIMITED)),
    ("Billing:FULL", (Permission.BILLING, Level.FULL)),
    ("admin:none", (Permission.ADMIN, Level.NONE)),
    ("crm-access", None),
    ("edit_plan:superuser", None),
])
def test_parse_grant(text: str, grant: object) -> None:
    assert parse_grant(text) == grant


def test_scim_users_and_groups() -> None:
    users = [
        {"id": "1", "userName": "ana@x", "active": True, "name": {"givenName": "Ana", "familyName": "Lee"},
         "roles": [{"value": "provider"}], "entitlements": [{"value": "edit_plan"}, {"value": "crm-access"},
                                                            {"value": "billing:superuser"}],
         ENTERPRISE: {"employeeNumber": "E1"}, MFA_EXTENSION: {"mfaEnrolled": True}},
        {"id": "2", "userName": "frontdesk@x", "displayName": "Front desk", "active": False},
        {"id": "3", "userName": "it@x", "name": {"givenName": "I"}, "groups": [{"display": "Central IT", "value": "g9"}]},
    ]
    groups = [{"id": "g1", "displayName": "Riverside Ortho", "members": [{"value": "1"}, {"value": "2"}]},
              {"id": "g2", "displayName": "front desk", "members": [{"value": "2"}]},
              {"id": "g3", "displayName": "Marketing", "members": [{"value": "1"}]}]
    accounts = {a.user_name: a for a in from_scim(users, groups, VOCAB, "SCIM test").accounts}
    ana, desk, it = accounts["ana@x"], accounts["frontdesk@x"], accounts["it@x"]
    assert ana.roles == ("Provider",) and ana.locations == ("riverside-ortho",)
    # other applications' entitlements are ignored; a level we cannot read counts as full (reported, not dropped)
    assert ana.grants == ((Permission.EDIT_PLAN, Level.FULL), (Permission.BILLING, Level.FULL))
    assert ana.mfa is True and ana.employee_number == "E1" and ana.personal_name
    assert desk.roles == ("Front Desk",) and not desk.active and desk.mfa is None and not desk.personal_name
    assert it.roles == ("Central IT",) and it.locations == () and not it.personal_name


CSV_HEADER = "userName,displayName,active,roles,locations,entitlements,mfa,userType,employeeNumber,givenName,familyName\n"


def test_csv_reads_the_export_format() -> None:
    text = CSV_HEADER + "ana@x,Ana Lee,true,Provider,riverside-ortho;Bayview,edit_plan;view_analysis:limited,,Employee,E1,Ana,Lee\n"
    (ana,) = parse_csv(text, "users.csv", VOCAB).accounts
    assert ana.locations == ("riverside-ortho", "bayview") and ana.mfa is None and ana.source == "users.csv:2"
    assert ana.level(Permission.VIEW_ANALYSIS) is Level.LIMITED and ana.level(Permission.ADMIN) is Level.NONE


def test_csv_reports_every_problem_with_its_position() -> None:
    text = (CSV_HEADER
            + "ana@x,Ana,maybe,Provider,nowhere,edit_plan,true,,,,\n"
            + "ANA@x,Ana,true,Provider,bayview,edit_plan:superuser,yes,,,,\n")
    with pytest.raises(DirectoryInvalid) as caught:
        parse_csv(text, "users.csv", VOCAB)
    assert [i.format() for i in caught.value.issues] == [
        "users.csv:2:3: error: active must be true or false, not 'maybe'",
        "users.csv:2:5: error: unknown location 'nowhere'",
        "users.csv:3:1: error: userName 'ANA@x' repeats line 2",
        "users.csv:3:6: error: 'edit_plan:superuser' is not a permission (write e.g. edit_plan or view_analysis:limited)",
    ]


def test_csv_header_problems() -> None:
    with pytest.raises(DirectoryInvalid) as caught:
        parse_csv("userName,active,shoe_size\n", "u.csv", VOCAB)
    messages = [i.message for i in caught.value.issues]
    assert "unknown or repeated column 'shoe_size'" in messages
    assert {"missing required column 'roles'", "missing required column 'entitlements'"} <= set(messages)
