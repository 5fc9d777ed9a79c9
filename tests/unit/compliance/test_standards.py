"""Enterprise configuration standards: one schema, one checker, one answer for the AI threshold."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.compliance.standards import (
    LocationState,
    Rule,
    check_export,
    check_organization,
    check_standards,
    conforms,
    location_settings,
    organization_values,
    read_export,
    standards,
)
from golive.tasks.foundation.paths import EXAMPLES, RUNBOOKS
from golive.tasks.planning.organization import Organization

EXPORTS = EXAMPLES / "acme-dental" / "platform-config"


def _export(acme: Organization, **settings: Any) -> dict[str, Any]:
    doc = json.loads((EXPORTS / "lakeview-implant.json").read_text())
    doc["settings"].update(settings)
    return doc


def test_seven_standards_and_the_location_settings_come_from_the_schema() -> None:
    assert [s.setting for s in standards()] == ["implant_library", "units", "report_template", "notifications",
                                                "auto_logout_minutes", "image_retention_years", "ai_confidence_threshold"]
    threshold = next(s for s in standards() if s.setting == "ai_confidence_threshold")
    assert (threshold.playbook, threshold.playbook_rule, threshold.location_rule) == (0.85, Rule.EQUAL, Rule.EQUAL)
    assert "upload_bandwidth_cap_mbps" in location_settings() and "auto_logout_minutes" not in location_settings()


@pytest.mark.parametrize(("rule", "expected", "actual", "ok"), [
    (Rule.EQUAL, 0.85, 0.85, True), (Rule.EQUAL, 0.85, 0.1 + 0.75, True), (Rule.EQUAL, 0.85, 0.9, False),
    (Rule.EQUAL, 0.85, 0.8, False), (Rule.AT_MOST, 15, 10, True), (Rule.AT_MOST, 15, 20, False),
    (Rule.AT_MOST, 15, "10", False), (Rule.AT_LEAST, 7, 10, True), (Rule.AT_LEAST, 7, None, False),
    (Rule.SAME_SET, ["a", "b"], ["b", "a"], True), (Rule.SAME_SET, ["a", "b"], ["a"], False),
    (Rule.INCLUDES, {"channels": ["email"], "case_ready": True}, {"channels": ["email", "sms"], "case_ready": True}, True),
    (Rule.INCLUDES, {"channels": ["email"]}, {"channels": ["sms"]}, False),
    (Rule.NON_EMPTY, None, [], False), (Rule.NON_EMPTY, None, ["x"], True),
])
def test_rules(rule: Rule, expected: Any, actual: Any, ok: bool) -> None:
    assert conforms(rule, expected, actual) is ok


def test_the_threshold_has_one_rule_everywhere() -> None:
    """The runbooks hold no threshold of their own any more: the two that disagreed (== and >=) call the checker."""
    for path in RUNBOOKS.glob("*.yaml"):
        text = path.read_text()
        assert "ai_confidence_threshold ==" not in text and "ai_confidence_threshold >=" not in text, path
    for name in ("pre-implementation", "wave-go-live"):
        assert "uses: compliance.config_standards" in (RUNBOOKS / f"{name}.yaml").read_text()


def test_the_example_organization_adopts_the_playbook_and_deviations_are_named(acme: Organization) -> None:
    assert check_organization(organization_values(acme.standards)) == ()
    lower = replace(acme.standards, ai_confidence_threshold=0.80, image_retention_years=None)
    found = {d.setting: d.detail for d in check_organization(organization_values(lower))}
    assert set(found) == {"ai_confidence_threshold", "image_retention_years"}
    assert "is 0.8; the playbook's standard is equal to 0.85" in found["ai_confidence_threshold"]


def test_a_conforming_export(acme: Organization) -> None:
    result = check_export(_export(acme), organization_values(acme.standards), "lakeview-implant")
    assert result.state is LocationState.CONFORMS and result.drift == ()


@pytest.mark.parametrize(("change", "setting"), [
    ({"ai_confidence_threshold": 0.9}, "ai_confidence_threshold"),   # higher is not "safer": it is drift
    ({"auto_logout_minutes": 30}, "auto_logout_minutes"),
    ({"implant_library": ["Straumann BLX"]}, "implant_library"),
    ({"notifications": {"channels": ["sms"], "recipients": ["provider"], "case_ready": True, "low_confidence_review": True}},
     "notifications"),
    ({"upload_bandwidth_cap_mbps": 5}, "upload_bandwidth_cap_mbps"),      # a local setting out of its range
    ({"screensaver": "aquarium"}, "screensaver"),                         # not a setting of the template
    ({"auto_logout_minutes": "15"}, "auto_logout_minutes"),               # wrong type, reported once
])
def test_drift_is_found_and_named(acme: Organization, change: dict[str, Any], setting: str) -> None:
    result = check_export(_export(acme, **change), organization_values(acme.standards), "lakeview-implant")
    assert result.state is LocationState.DRIFT
    assert [d.setting for d in result.drift] == [setting], result.drift


def test_a_shorter_auto_logout_conforms(acme: Organization) -> None:
    result = check_export(_export(acme, auto_logout_minutes=10), organization_values(acme.standards), "lakeview-implant")
    assert result.state is LocationState.CONFORMS


def test_missing_and_unreadable_exports_are_never_a_pass(acme: Organization, tmp_path: Path) -> None:
    values = organization_values(acme.standards)
    assert read_export(tmp_path, "bayview", values).state is LocationState.NOT_VERIFIED
    (tmp_path / "bayview.json").write_text('{"location": "bayview",\n "settings": }')
    bad = read_export(tmp_path, "bayview", values)
    assert bad.state is LocationState.INVALID and "bayview.json:2:14" in bad.note
    (tmp_path / "bayview.json").write_text(json.dumps({"location": "old-town", "settings": {}}))
    assert read_export(tmp_path, "bayview", values).state is LocationState.INVALID
    no_folder = check_standards(acme.standards, exports=None, locations=["bayview"])
    assert no_folder.where(LocationState.NOT_VERIFIED) == ["bayview"] and not no_folder.passed


def test_the_example_exports_have_exactly_one_drift(acme: Organization) -> None:
    report = check_standards(acme.standards, exports=EXPORTS, locations=[loc.id for loc in acme.locations])
    assert report.drift_count == 1 and report.where(LocationState.DRIFT) == ["old-town"]
    (drift,) = next(loc for loc in report.locations if loc.location == "old-town").drift
    assert (drift.setting, drift.expected, drift.actual) == ("ai_confidence_threshold", 0.85, 0.8)
