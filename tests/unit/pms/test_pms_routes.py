"""The route table: every row well-formed and documented, README shows it, pacing per location."""

from __future__ import annotations

import pytest

from golive.flows.engine.org import load_org
from golive.tasks.foundation.paths import ROOT
from golive.tasks.pms.config import settings_for
from golive.tasks.pms.pacing import Pacer, duration, shared_pacer
from golive.tasks.pms.protocol import PmsConfigError, Version
from golive.tasks.pms.routes import DOCS, PARAMS_ADDED, ROUTES, UNDO, markdown_table, match, needed, route


def test_every_row_is_documented_and_well_formed() -> None:
    assert len({r.name for r in ROUTES}) == len(ROUTES)
    for r in ROUTES:
        assert r.method in ("GET", "POST", "DELETE") and r.path.startswith("/")
        assert r.page.startswith("api") and r.page.endswith(".html") and r.section.split()[0].lower() in r.page
        assert r.verified, f"{r.name}: not verified against the documentation"
        assert Version.parse(r.added).parts[0] >= 21
    for key, added in ((k, a) for k, params in PARAMS_ADDED.items() for a in params.values()):
        assert Version.parse(added).at_least(route(*key).version)
    for write, undo in UNDO.items():
        assert route(*write).method == "POST" and route(*undo).method == "DELETE"


def test_the_readme_shows_the_table() -> None:
    assert markdown_table() in (ROOT / "tasks" / "pms" / "README.md").read_text()
    assert DOCS in markdown_table()


def test_concrete_paths_match_their_rows() -> None:
    assert match("GET", "/patients/Simple").section == "Patients GET Simple"  # type: ignore[union-attr]
    assert match("GET", "/patients/48").section == "Patients GET (single)"  # type: ignore[union-attr]
    assert match("DELETE", "/treatplans/115").added == "24.4.26"  # type: ignore[union-attr]
    assert match("GET", "/patients") is None  # GET (multiple) is not a route golive calls
    assert match("DELETE", "/treatplanattaches/3") is None  # the documentation has no such route
    assert route("DELETE", "/treatplans/{TreatPlanNum}").path_for(TreatPlanNum=115) == "/treatplans/115"


def test_needed_names_the_highest_missing_version() -> None:
    rows = (route("POST", "/treatplans"), route("DELETE", "/treatplans/{TreatPlanNum}"))
    assert needed(Version.parse("23.1.12"), *rows).added == "24.4.26"  # type: ignore[union-attr]
    assert needed(Version.parse("24.4.26.0"), *rows) is None


def test_pacing_per_location_from_the_organization() -> None:
    org = load_org(None)
    assert settings_for(org.location("eastside-specialty")).interval_s == 5.0  # read_all: the default
    assert settings_for(org.location("lakeview-implant")).interval_s == 1.0  # throttle: extended
    assert settings_for(org.location("suburban-west")).interval_s == 0.0  # Dentrix: a database connection
    loc = org.location("eastside-specialty")
    assert settings_for(loc, {"throttle": "local"}).interval_s == 0.0
    assert settings_for(loc, {"request_interval_s": 0.01}).interval_s == 0.01
    with pytest.raises(PmsConfigError, match="throttle is one of read_all, extended, local"):
        settings_for(loc, {"throttle": "fast"})


def test_shared_pacer_and_durations() -> None:
    assert shared_pacer("loc-a", 5.0) is shared_pacer("loc-a", 5.0)
    assert shared_pacer("loc-a", 5.0) is not shared_pacer("loc-b", 5.0)
    assert Pacer(5.0).estimate_s(88) == 440.0 and duration(440.0) == "7 min 20 s" and duration(4.5) == "4.5 s"
