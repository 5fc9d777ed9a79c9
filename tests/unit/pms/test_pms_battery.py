from __future__ import annotations

from golive.tasks.pms import battery
from golive.tasks.pms.battery import Status
from tests.unit.pms.pms_fakes import FakePms

PSEUDO = lambda pid: f"P-{pid}x"  # noqa: E731


def test_nondestructive_passes_when_stamps_hold() -> None:
    pms = FakePms()
    pms.add_patients(12)
    r = battery.nondestructive_check(pms, PSEUDO)
    assert r.status is Status.PASSED and r.evidence["records"] == 10


def test_nondestructive_fails_when_a_read_changes_a_record() -> None:
    pms = FakePms(mutate_on_read=True)
    pms.add_patients(12)
    r = battery.nondestructive_check(pms, PSEUDO)
    assert r.status is Status.FAILED and r.evidence["changed"] == ["P-3x"]


def test_nondestructive_needs_ten_records() -> None:
    pms = FakePms()
    pms.add_patients(4)
    assert battery.nondestructive_check(pms, PSEUDO).status is Status.NOT_VERIFIED


def test_code_mapping_flags_bad_form_and_missing_codes() -> None:
    pms = FakePms(codes=("D0367", "D6010", "X6057"))
    r = battery.code_mapping_check(pms, ("D0367", "D6010", "D6057", "6058", "D0099"))
    assert r.status is Status.FAILED
    assert r.evidence["bad_form_or_range"] == ["6058", "D0099"]
    assert r.evidence["missing_in_pms"] == ["D6057"]
    ok = battery.code_mapping_check(pms, ("D0367", "D6057"), custom={"D6057": "X6057"})
    assert ok.status is Status.PASSED


def test_version_below_minimum_fails() -> None:
    assert battery.version_check(FakePms(ver="21.4.3"), None).status is Status.FAILED
    assert battery.version_check(FakePms(ver="22.1.0"), None).status is Status.PASSED


def test_imaging_without_images_is_not_verified_not_passed() -> None:
    pms = FakePms()
    pms.add_patients(1)
    assert battery.imaging_passthrough_check(pms, "1", PSEUDO).status is Status.NOT_VERIFIED
