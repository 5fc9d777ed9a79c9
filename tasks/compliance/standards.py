"""Enterprise configuration standards: one schema, one checker.

`schemas/platform-configuration.schema.json` is the single source of truth. Each of the playbook's
seven standards is a setting there with `x-standard`: the organization file's value for it
(`standards.<organization>`), the rule that holds that value to the playbook, and the rule that
holds every location's exported value to the organization's. The settings a location may vary are
there too, with their allowed ranges. This module only reads and applies those declarations, so
the AI confidence threshold, for one, is judged the same way everywhere: a location's value must
equal the organization's (0.85 by the playbook), neither higher nor lower.

Results per location: `conforms`, `drift` (a standard broken or a local setting out of range),
`invalid` (not a configuration export), or `not_verified` (no export): never a silent pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from golive.tasks.foundation.schema_check import load_schema

SCHEMA = "platform-configuration.schema.json"


class Rule(str, Enum):
    EQUAL = "equal"
    AT_MOST = "at_most"
    AT_LEAST = "at_least"
    SAME_SET = "same_set"
    INCLUDES = "includes"
    NON_EMPTY = "non_empty"

    @property
    def words(self) -> str:
        return {Rule.EQUAL: "equal to", Rule.AT_MOST: "at most", Rule.AT_LEAST: "at least",
                Rule.SAME_SET: "the same set as", Rule.INCLUDES: "including", Rule.NON_EMPTY: "set"}[self]


class LocationState(str, Enum):
    CONFORMS = "conforms"
    DRIFT = "drift"
    INVALID = "invalid"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True)
class Standard:
    setting: str
    title: str
    playbook: Any
    rationale: str
    organization: str  # the key under the organization file's `standards`
    playbook_rule: Rule
    location_rule: Rule


@dataclass(frozen=True)
class Drift:
    setting: str
    title: str
    expected: Any
    actual: Any
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "title": self.title, "expected": self.expected, "actual": self.actual,
                "detail": self.detail}


@dataclass(frozen=True)
class LocationConfig:
    location: str
    state: LocationState
    drift: tuple[Drift, ...] = ()
    exported_at: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "state": self.state.value, "exported_at": self.exported_at,
                "drift": [d.to_dict() for d in self.drift], "note": self.note}


@dataclass(frozen=True)
class StandardsReport:
    organization: tuple[Drift, ...]  # the organization's own values against the playbook
    locations: tuple[LocationConfig, ...]

    @property
    def drift_count(self) -> int:
        return sum(len(loc.drift) for loc in self.locations)

    def where(self, state: LocationState) -> list[str]:
        return [loc.location for loc in self.locations if loc.state is state]

    @property
    def passed(self) -> bool:
        return not self.organization and all(loc.state is LocationState.CONFORMS for loc in self.locations)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "organization": [d.to_dict() for d in self.organization],
                "drift_count": self.drift_count, "drift_locations": self.where(LocationState.DRIFT),
                "invalid": self.where(LocationState.INVALID), "not_verified": self.where(LocationState.NOT_VERIFIED),
                "conforming": self.where(LocationState.CONFORMS),
                "locations": [loc.to_dict() for loc in self.locations]}


@lru_cache(maxsize=1)
def standards() -> tuple[Standard, ...]:
    """The seven standards, as the schema declares them."""
    settings = load_schema(SCHEMA)["properties"]["settings"]["properties"]
    out = []
    for name, spec in settings.items():
        x = spec.get("x-standard")
        if x:
            out.append(Standard(name, x["title"], x["playbook"], x["rationale"], x["organization"],
                                Rule(x["playbook_rule"]), Rule(x["location_rule"])))
    return tuple(out)


@lru_cache(maxsize=1)
def location_settings() -> dict[str, str]:
    """The settings a location may vary, with their descriptions (ranges are in the schema)."""
    settings = load_schema(SCHEMA)["properties"]["settings"]["properties"]
    return {name: spec["description"] for name, spec in settings.items() if spec.get("x-location-setting")}


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(SCHEMA))


def conforms(rule: Rule, expected: Any, actual: Any) -> bool:
    """Whether `actual` meets `expected` under `rule` (numbers: exact up to float representation)."""
    if rule is Rule.NON_EMPTY:
        return actual not in (None, "", [], (), {})
    if actual is None:
        return False
    if rule is Rule.EQUAL:
        if _number(expected) and _number(actual):
            return math.isclose(float(actual), float(expected), rel_tol=0, abs_tol=1e-9)
        return bool(actual == expected)
    if rule is Rule.AT_MOST:
        return _number(actual) and float(actual) <= float(expected)
    if rule is Rule.AT_LEAST:
        return _number(actual) and float(actual) >= float(expected)
    if rule is Rule.SAME_SET:
        return isinstance(actual, list | tuple) and set(actual) == set(expected)
    if isinstance(expected, Mapping):  # INCLUDES, field by field
        return isinstance(actual, Mapping) and all(conforms(Rule.INCLUDES, v, actual.get(k)) for k, v in expected.items())
    if isinstance(expected, list | tuple):
        return isinstance(actual, list | tuple) and set(expected) <= set(actual)
    return bool(actual == expected)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def organization_values(org_standards: Any) -> dict[str, Any]:
    """The organization file's standards as plain JSON values, keyed as `x-standard.organization` names them."""
    n = org_standards.notifications
    return {"implant_library": list(org_standards.implant_library), "units": org_standards.units,
            "report_template": org_standards.report_template,
            "notifications": {"channels": list(n.channels), "recipients": list(n.recipients),
                              "case_ready": n.case_ready, "low_confidence_review": n.low_confidence_review},
            "auto_logout_minutes": org_standards.auto_logout_minutes,
            "image_retention_years": org_standards.image_retention_years,
            "ai_confidence_threshold": org_standards.ai_confidence_threshold}


def check_organization(values: Mapping[str, Any]) -> tuple[Drift, ...]:
    """The organization's chosen values against the playbook's standards."""
    out = []
    for s in standards():
        value = values.get(s.organization)
        if not conforms(s.playbook_rule, s.playbook, value):
            want = f"{s.playbook_rule.words} {_show(s.playbook)}" if s.playbook_rule is not Rule.NON_EMPTY else "set"
            got = "not set" if value in (None, "", []) else _show(value)
            out.append(Drift(s.setting, s.title, s.playbook, value,
                             f"the organization's {s.title.lower()} is {got}; the playbook's standard is {want}"))
    return tuple(out)


def check_export(doc: Any, expected: Mapping[str, Any], location: str) -> LocationConfig:
    """One location's exported configuration against the schema and the organization's values."""
    if not isinstance(doc, Mapping):
        return LocationConfig(location, LocationState.INVALID, note="the export is not a JSON object")
    drift: list[Drift] = []
    if doc.get("location") not in (None, location):
        return LocationConfig(location, LocationState.INVALID, note=f"the export is for {doc.get('location')!r}")
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    found = doc.get("settings")
    settings: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    standard_names = {s.setting for s in standards()}
    for e in errors:
        path = [str(p) for p in e.absolute_path]
        setting = path[1] if len(path) > 1 and path[0] == "settings" else ".".join(path) or "(export)"
        if (setting in standard_names and setting in settings) or (e.validator == "required" and path == ["settings"]):
            continue  # a wrong or missing standard value is reported below, once, with what it should be
        if e.validator == "additionalProperties" and path == ["settings"]:
            extra = sorted(set(settings) - set(location_settings()) - standard_names)
            drift += [Drift(x, x, None, settings.get(x), f"{x} is not a setting of the standard template")
                      for x in extra]
            continue
        drift.append(Drift(setting, setting, None, _get(settings, path[1:]) if path[:1] == ["settings"] else None,
                           f"{'.'.join(path) or 'export'}: {e.message}"))
    for s in standards():
        want, have = expected.get(s.organization), settings.get(s.setting)
        if want in (None, "", []):
            continue  # the organization has no value: its own check says so
        if not conforms(s.location_rule, want, have):
            got = "missing" if have is None else _show(have)
            drift.append(Drift(s.setting, s.title, want, have,
                               f"{s.title}: {got}; the organization's standard is {s.location_rule.words} {_show(want)}"))
    state = LocationState.DRIFT if drift else LocationState.CONFORMS
    return LocationConfig(location, state, tuple(drift), str(doc.get("exported_at") or "") or None)


def _get(settings: Any, path: Sequence[str]) -> Any:
    value = settings
    for part in path:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def read_export(folder: Path, location: str, expected: Mapping[str, Any]) -> LocationConfig:
    path = folder / f"{location}.json"
    if not path.is_file():
        return LocationConfig(location, LocationState.NOT_VERIFIED, note=f"no export {path.name} in {folder}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return LocationConfig(location, LocationState.INVALID, note=f"{path.name}: not UTF-8 text")
    except json.JSONDecodeError as exc:
        return LocationConfig(location, LocationState.INVALID, note=f"{path.name}:{exc.lineno}:{exc.colno}: {exc.msg}")
    return check_export(doc, expected, location)


def check_standards(org_standards: Any, *, exports: Path | None, locations: Sequence[str]) -> StandardsReport:
    """The organization's standards against the playbook, and every location's export against them
    (a location without an export folder to read is not verified)."""
    values = organization_values(org_standards)
    results = tuple(read_export(exports, loc, values) if exports is not None else
                    LocationConfig(loc, LocationState.NOT_VERIFIED, note="no folder of configuration exports given")
                    for loc in locations)
    return StandardsReport(check_organization(values), results)
