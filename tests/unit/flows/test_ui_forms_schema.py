"""The JSON schemas the Prefect UI renders (issue 11): forms a person can fill in, checked up front."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from golive.tasks.context import InputRequest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _schema(model: type) -> dict:
    from prefect._internal.pydantic.v2_schema import create_v2_schema

    return create_v2_schema(model.__name__, model_base=model)  # what RunInput.save stores for the UI


def test_a_single_role_is_an_enum_with_a_default_not_a_const() -> None:
    """Prefect's UI greys out `const` and then refuses the empty field as required."""
    from golive.flows.engine.inputs import approval_form

    model = approval_form(InputRequest(kind="approval", step_key="cfo", question="Budget?", approvers=("CFO",)))
    role = _schema(model)["properties"]["role"]
    assert "const" not in role
    assert role["enum"] == ["CFO"] and role["default"] == "CFO"
    assert model(decision="approve", name="Casey").role == "CFO"  # submitted without touching the box


def test_several_roles_are_a_required_dropdown() -> None:
    from golive.flows.engine.inputs import approval_form

    schema = _schema(approval_form(InputRequest(kind="approval", step_key="s", question="?",
                                                approvers=("CDO", "VP of IT"))))
    assert schema["properties"]["role"]["enum"] == ["CDO", "VP of IT"]
    assert {"decision", "name", "role"} <= set(schema["required"])


def test_checklist_items_are_required_and_unticked_and_only_the_open_ones_are_asked() -> None:
    from golive.flows.engine.inputs import checklist_form, waiting_note

    request = InputRequest(kind="confirm", step_key="prep", question="Go-live preparation",
                           items=(("kickoff", "Kickoff held"), ("sandbox", "Sandbox access")),
                           owners=("CDO", None), dues=("week 1 day 2", None))
    model, positions = checklist_form(request, set(), datetime(2026, 12, 7, tzinfo=UTC))
    schema = _schema(model)
    assert schema["properties"]["item_0"]["description"] == "owner: CDO; due: 2026-12-08 (week 1 day 2)"
    assert set(schema["required"]) == {"name", "item_0", "item_1"}  # no "(Optional)" on a checklist item
    assert schema["properties"]["comment"]["default"] == ""  # optional: issues and learnings, for the debrief
    assert schema["properties"]["item_0"]["default"] is False
    model, positions = checklist_form(request, {"kickoff"})
    assert positions == {"item_1": "sandbox"}
    note = waiting_note(request, datetime(2026, 12, 7, tzinfo=UTC))
    assert "**prep** waits for a checklist" in note
    assert "kickoff: Kickoff held (owner: CDO; due: 2026-12-08 (week 1 day 2))" in note


def test_location_ids_are_checked_against_the_organization_before_any_step() -> None:
    from golive.flows.engine.org import load_org
    from golive.flows.engine.validate import check_locations, check_parameters, validate_file
    from golive.tasks.foundation.errors import ParameterError

    book = validate_file(Path(__file__).resolve().parents[2] / "e2e" / "ui" / "ui-check.yaml")
    org = load_org(FIXTURES / "organization-min.yaml")
    check_locations(book, {"locations": ["loc-a", "loc-b"]}, org)
    with pytest.raises(ParameterError, match=r"unknown location 'loc-c' in Test Dental Group .*did you mean 'loc-"):
        check_locations(book, {"locations": ["loc-a", "loc-c"]}, org)
    with pytest.raises(ParameterError, match=r"parameter 'start_date'.*next monday"):
        check_parameters(book, {"locations": ["loc-a"], "start_date": "next monday"})
    with pytest.raises(ParameterError, match=r"parameter 'seats'"):
        check_parameters(book, {"locations": ["loc-a"], "start_date": "2026-12-07", "seats": -3})


def test_deployed_form_offers_the_organizations_locations_dates_and_minimums(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.utilities.callables import parameter_schema

    from golive.flows.deployed import flow_for
    from golive.flows.engine.validate import validate_file

    book = validate_file(Path(__file__).resolve().parents[2] / "e2e" / "ui" / "ui-check.yaml")
    schema = parameter_schema(flow_for(book, ("loc-a", "loc-b")).fn).model_dump()
    props = schema["properties"]
    assert props["locations"]["items"]["enum"] == ["loc-a", "loc-b"] and props["locations"]["minItems"] == 1
    assert props["start_date"]["format"] == "date"
    assert props["seats"]["minimum"] == 1 and props["seats"]["default"] == 3
    for extra in ("run_key", "org"):
        assert props[extra]["type"] == "string" and props[extra]["description"]  # not "Property is type None"
    assert '"approvals"' in props["decisions"]["description"]
    assert set(schema["required"]) == {"locations", "start_date"}


def test_cli_refuses_an_unknown_location_before_prefect_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from golive.flows.cli.main import app

    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    book = Path(__file__).resolve().parents[2] / "e2e" / "ui" / "ui-check.yaml"
    result = CliRunner().invoke(app, ["run", str(book), "-p", "locations=[loc-z]", "-p", "start_date=2026-12-07",
                                      "--org", str(FIXTURES / "organization-min.yaml")])
    assert result.exit_code == 2
    assert "unknown location 'loc-z' in Test Dental Group" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / ".golive" / "prefect").exists()  # nothing started
