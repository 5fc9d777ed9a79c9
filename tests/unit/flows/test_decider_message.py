"""Who a paused run's message goes to: role holders tied to the run's locations, and the unscoped ones."""

from __future__ import annotations

from golive.flows.engine.decider_message import run_locations
from golive.tasks.core.notify import recipients
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import load_organization


def test_run_locations_reads_location_and_locations_in_order() -> None:
    assert run_locations({"locations": ["lakeview-implant", "harbor-point"], "start": "2026-03-30"}) == [
        "lakeview-implant", "harbor-point"]
    assert run_locations({"location": "kingsbridge", "locations": ["kingsbridge", "oak-park"]}) == [
        "kingsbridge", "oak-park"]
    assert run_locations({"start": "2026-03-30"}) == [] and run_locations(None) == []


def test_holders_of_other_locations_and_regions_are_left_out() -> None:
    acme = load_organization(DEFAULT_ORG)
    roles = ["Office Manager", "Regional Manager", "CEO", "COO"]
    # lakeview-implant is in region north: its office manager, north's regional manager, and the
    # CEO and COO (no location, no region) — not the other clinics' office managers or regions.
    assert recipients(acme, roles, ["lakeview-implant"]) == [
        "Erin Callahan", "Victor Haines", "Dana Whitfield", "Carmen Ortiz"]
    # Two locations in two regions: both office managers, both regional managers.
    assert recipients(acme, ["Office Manager", "Regional Manager"], ["lakeview-implant", "harbor-point"]) == [
        "Erin Callahan", "Monica Hale", "Victor Haines", "Beth Sorensen"]
    # No locations: every holder.
    everyone = recipients(acme, ["Office Manager"], [])
    assert "Kelly Nguyen" in everyone and "Erin Callahan" in everyone and len(everyone) == len(
        acme.people_with_role("Office Manager"))
