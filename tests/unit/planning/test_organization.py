"""The organization file: the example loads; mistakes come back with file, line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from golive.tasks.planning.organization import (
    Hosting,
    Organization,
    OrganizationInvalid,
    PmsProduct,
    UnknownLocation,
    load_organization,
)

APPROVAL_ROLES = ("Board", "CEO", "CFO", "COO", "CDO", "VP of IT", "VP of Clinical", "VP of Ops",
                  "Regional Manager", "Office Manager", "Central IT", "Clinical Lead", "Provider")

MINIMAL = """\
apiVersion: golive/v1
kind: Organization
name: Tiny Dental
timezone: America/Denver
regions:
  - {id: west, name: West}
people:
  - {name: Pat Doe, roles: [Regional Manager], region: west}
locations:
  - id: one
    name: One
    region: west
    pms:
      product: opendental
      version: "23.2.17"
      connection: {base_url: "https://od.example/api/v1", secret: "env:OD_ONE_KEY"}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "organization.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(OrganizationInvalid) as exc:
        load_organization(write(tmp_path, text))
    return [i.format().replace(str(tmp_path) + "/", "") for i in exc.value.issues]


def test_example_group_has_25_locations_and_every_approval_role(acme: Organization) -> None:
    assert acme.name == "Acme Dental Partners"
    assert len(acme.locations) == 25
    assert {loc.pms.product for loc in acme.locations if loc.pms} == set(PmsProduct)
    for role in APPROVAL_ROLES:
        assert acme.people_with_role(role), role
    assert acme.standards.auto_logout_minutes == 15
    assert acme.standards.ai_confidence_threshold == 0.85
    assert acme.hosting is Hosting.CLOUD and "Recommended" in acme.hosting_advice
    for name in ("Downtown Metro", "Suburban West", "Northside Family", "Eastside Specialty", "Rural Clinic"):
        assert any(loc.name == name for loc in acme.locations)


def test_example_secrets_are_references(acme: Organization) -> None:
    for loc in acme.locations:
        assert loc.pms and loc.pms.connection, loc.id
        assert loc.pms.connection.secret.startswith(("env:", "prefect-secret:"))


def test_location_lookup_and_defaults(acme: Organization) -> None:
    loc = acme.location("rural-clinic")
    assert loc.name == "Rural Clinic" and loc.timezone == "America/Chicago"
    assert loc.network and loc.network.bandwidth_mbps == 20
    assert acme.location("bayview").staff is None  # missing stays missing, never zero
    with pytest.raises(UnknownLocation, match="did you mean 'rural-clinic'"):
        acme.location("rural-clinc")
    assert [loc.id for loc in acme.locations_in("south")][:2] == ["rural-clinic", "harbor-point"]


def test_minimal_file_loads(tmp_path: Path) -> None:
    org = load_organization(write(tmp_path, MINIMAL))
    assert org.location("one").timezone == "America/Denver"
    assert org.standards.auto_logout_minutes == 15


def test_literal_key_is_refused_with_position(tmp_path: Path) -> None:
    bad = MINIMAL.replace('secret: "env:OD_ONE_KEY"', 'secret: "8f2c1e9a77b4"')
    assert errors(tmp_path, bad) == [
        "organization.yaml:16:67: error: locations[0].pms.connection.secret: the value is not a secret "
        "reference; write 'env:VARIABLE_NAME' or 'prefect-secret:block-name', never the key itself"
    ]


def test_key_field_is_unknown_with_hint(tmp_path: Path) -> None:
    bad = MINIMAL.replace('secret: "env:OD_ONE_KEY"', 'secret: "env:OD_ONE_KEY", customer_key: abc')
    (line,) = errors(tmp_path, bad)
    assert line.startswith("organization.yaml:16:")
    assert "unknown key 'customer_key'" in line


def test_credentials_in_url_and_dsn_are_refused(tmp_path: Path) -> None:
    bad = MINIMAL.replace('https://od.example/api/v1', 'https://admin:hunter2@od.example/api/v1')
    (line,) = errors(tmp_path, bad)
    assert line.startswith("organization.yaml:16:30: error: locations[0].pms.connection.base_url:")
    assert "is not an http(s) URL without credentials" in line
    dsn = MINIMAL.replace("product: opendental", "product: dentrix").replace(
        'base_url: "https://od.example/api/v1"', 'dsn: "DSN=ONE;PWD=hunter2"')
    (line,) = errors(tmp_path, dsn)
    assert "the DSN carries a password or key" in line


def test_semantic_errors_are_all_reported_in_order(tmp_path: Path) -> None:
    bad = MINIMAL.replace("region: west}", "region: wset}").replace("    region: west\n", "    region: weest\n") + (
        "  - {id: one, name: Again, region: west}\n"
    )
    assert errors(tmp_path, bad) == [
        "organization.yaml:8:56: error: people[0].region: unknown region 'wset'\n    hint: did you mean 'west'?",
        "organization.yaml:12:13: error: locations[0].region: unknown region 'weest'\n    hint: did you mean 'west'?",
        "organization.yaml:17:10: error: locations[1].id: duplicate location id 'one'\n    hint: first defined at locations[0]",
    ]


def test_people_must_name_their_location(tmp_path: Path) -> None:
    bad = MINIMAL.replace("  - {name: Pat Doe, roles: [Regional Manager], region: west}",
                          "  - {name: Pat Doe, roles: [Office Manager]}\n  - {name: Lee Roe, roles: [Provider], location: two}")
    lines = errors(tmp_path, bad)
    assert lines[0].startswith("organization.yaml:8:5: error: people[0]: Pat Doe (Office Manager) has no 'location'")
    assert lines[1].startswith("organization.yaml:9:50: error: people[1].location: unknown location 'two'")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("timezone: America/Denver", "timezone: Mountain", "organization.yaml:4:11: error: timezone: 'Mountain' is not an IANA"),
        ("product: opendental", "product: dentrx", "organization.yaml:14:16: error: locations[0].pms.product: 'dentrx' is not one of"),
        ("    region: west\n", "    region: west\n    implant_share: 22\n", "organization.yaml:13:20: error: locations[0].implant_share: must be at most 1, got 22"),
        ("kind: Organization", "kind: Runbook", "organization.yaml:2:7: error: kind: expected 'Organization', got 'Runbook'"),
        ("    region: west\n", "    region: west\n    overrides: {it: {score: 6, reason: fast}}\n", "organization.yaml:13:29: error: locations[0].overrides.it.score: must be at most 5, got 6"),
    ],
)
def test_schema_errors_have_positions(tmp_path: Path, old: str, new: str, expected: str) -> None:
    lines = errors(tmp_path, MINIMAL.replace(old, new))
    assert lines and lines[0].startswith(expected), lines


def test_yaml_syntax_error_is_an_organization_error(tmp_path: Path) -> None:
    lines = errors(tmp_path, MINIMAL + "  - id: [unclosed\n")
    assert lines[0].startswith("organization.yaml:")


def test_schema_and_semantic_errors_come_back_together(tmp_path: Path) -> None:
    bad = MINIMAL.replace('secret: "env:OD_ONE_KEY"', 'secret: "8f2c1e9a77b4"').replace("    region: west\n", "    region: east\n")
    lines = errors(tmp_path, bad)
    assert [line.split(": error: ")[1].split(":")[0] for line in lines] == [
        "locations[0].region", "locations[0].pms.connection.secret"]


def test_wrong_shapes_do_not_crash_the_semantic_checks(tmp_path: Path) -> None:
    bad = MINIMAL.replace("  - {id: west, name: West}", "  - west").replace("roles: [Regional Manager]", "roles: Regional Manager")
    lines = errors(tmp_path, bad)
    assert any("regions[0]: expected a mapping" in line for line in lines), lines
    assert any("people[0].roles: expected a list" in line for line in lines), lines


def test_refused_credentials_are_never_echoed(tmp_path: Path) -> None:
    url = MINIMAL.replace('https://od.example/api/v1', 'https://admin:hunter2@od.example/api/v1')
    key = MINIMAL.replace('secret: "env:OD_ONE_KEY"', 'secret: "8f2c1e9a77b4"')
    for bad, leaked in ((url, "hunter2"), (key, "8f2c1e9a77b4")):
        (line,) = errors(tmp_path, bad)
        assert leaked not in line


def test_holidays_load_sorted_and_feed_the_calendar(tmp_path: Path) -> None:
    org = load_organization(write(tmp_path, MINIMAL.replace(
        "regions:", 'holidays:\n  - {date: "2027-07-05", name: Independence Day (observed)}\n'
                    '  - {date: "2027-01-18", name: MLK Day}\nregions:')))
    assert [(h.day.isoformat(), h.name) for h in org.holidays] == [("2027-01-18", "MLK Day"),
                                                                   ("2027-07-05", "Independence Day (observed)")]
    assert {d.isoformat() for d in org.holiday_days} == {"2027-01-18", "2027-07-05"}


def test_example_group_names_its_holidays(acme: Organization) -> None:
    assert {h.day.isoformat() for h in acme.holidays} >= {"2027-01-18", "2027-05-31", "2027-11-25"}
    assert all(h.day.weekday() < 5 and h.name for h in acme.holidays)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("regions:", 'holidays:\n  - {date: "2027-02-30", name: Nope}\nregions:',
         "organization.yaml:6:12: error: holidays[0].date: '2027-02-30' is not a calendar day"),
        ("regions:", 'holidays:\n  - {date: "July 4", name: Fourth}\nregions:',
         "organization.yaml:6:12: error: holidays[0].date: 'July 4' is not a date (YYYY-MM-DD)"),
        ("regions:", 'holidays:\n  - {date: "2027-07-05"}\nregions:',
         "organization.yaml:6:5: error: holidays[0]: missing required key 'name'"),
        ("regions:", 'holidays:\n  - {date: "2027-07-05", name: A}\n  - {date: "2027-07-05", name: B}\nregions:',
         "organization.yaml:7:12: error: holidays[1].date: 2027-07-05 is listed twice"),
        ("timezone: America/Denver", "timezone: America/Chikago",
         "organization.yaml:4:11: error: timezone: unknown IANA time zone 'America/Chikago'"),
        ("    region: west\n", "    region: west\n    timezone: Europe/Atlantis\n",
         "organization.yaml:13:15: error: locations[0].timezone: unknown IANA time zone 'Europe/Atlantis'"),
    ],
)
def test_holiday_and_time_zone_mistakes_name_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    lines = errors(tmp_path, MINIMAL.replace(old, new, 1))
    assert lines and lines[0].startswith(expected), lines


def test_cli_check_exits_2_on_an_unknown_time_zone(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from golive.flows.cli.main import app

    path = write(tmp_path, MINIMAL.replace("timezone: America/Denver", "timezone: America/Chikago"))
    result = CliRunner().invoke(app, ["org", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert "organization.yaml:4:11: error: timezone: unknown IANA time zone 'America/Chikago'" in result.output
    assert "Traceback" not in result.output
