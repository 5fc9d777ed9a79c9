"""Automated technical checks: GPU class, OS, monitor, network, PMS minimums and the example group."""

from __future__ import annotations

from dataclasses import replace

import pytest

from golive.tasks.planning.organization import Organization, Pms, PmsProduct
from golive.tasks.planning.tech_check import (
    Status,
    check_location,
    check_locations,
    check_organization,
    gpu_class_ok,
    os_ok,
)


@pytest.mark.parametrize(
    ("gpu", "ok"),
    [
        ("NVIDIA GeForce GTX 1660", True), ("NVIDIA GeForce GTX 1660 Super", True), ("GTX 1650", False),
        ("NVIDIA GeForce GTX 1060 6GB", False), ("GTX 1080", True), ("NVIDIA GeForce RTX 3050", True),
        ("RTX 4090", True), ("NVIDIA RTX A2000", True), ("NVIDIA RTX A1000", False), ("Quadro P2000", False),
        ("NVIDIA T1000", False), ("AMD Radeon RX 6600", True), ("AMD Radeon RX 6500 XT", False),
        ("Radeon RX 5600 XT", True), ("Radeon RX 580", False), ("AMD Radeon RX 9070", True),
        ("Intel UHD Graphics 630", False), ("Intel Iris Xe", False), ("Apple M2 Pro", True),
        ("Matrox G200", None),
    ],
)
def test_gpu_class(gpu: str, ok: bool | None) -> None:
    assert gpu_class_ok(gpu) is ok


@pytest.mark.parametrize(
    ("os_name", "ok"),
    [
        ("Windows 11 Pro 64-bit", True), ("Windows 10 Pro 64-bit", True), ("Windows 10 Enterprise", True),
        ("Windows 10 Home 64-bit", False), ("Windows 10 Pro 32-bit", False), ("Windows 7 Professional 64-bit", False),
        ("macOS 12", True), ("macOS 14 Sonoma", True), ("macOS 11", False), ("Ubuntu 22.04", None),
    ],
)
def test_operating_systems(os_name: str, ok: bool | None) -> None:
    assert os_ok(os_name)[0] is ok


def _status(acme: Organization, loc_id: str) -> dict[str, Status]:
    return {c.id: c.status for c in check_location(acme.location(loc_id)).checks}


def test_a_location_that_passes_everything(acme: Organization) -> None:
    r = check_location(acme.location("downtown-metro"))
    assert r.passed and not r.failures
    assert {c.id for c in r.checks} == {"cbct", "ios", "ram", "gpu", "ssd", "monitor", "os", "bandwidth", "latency", "pms"}


def test_old_town_fails_every_location_check(acme: Organization) -> None:
    status = _status(acme, "old-town")
    assert all(s is Status.FAIL for s in status.values()), status


def test_boundaries_in_the_example(acme: Organization) -> None:
    maple = _status(acme, "maple-grove")  # 50 Mbps and 99 ms: both just pass
    assert maple["bandwidth"] is Status.PASS and maple["latency"] is Status.PASS
    assert _status(acme, "northside-family")["bandwidth"] is Status.FAIL  # 45 Mbps
    assert _status(acme, "rural-clinic")["gpu"] is Status.FAIL  # GTX 1650
    assert _status(acme, "bayview")["ram"] is Status.UNKNOWN  # no workstations documented


@pytest.mark.parametrize(
    ("version", "status", "text"),
    [
        ("22.0.5", Status.FAIL, "below the 22.1 minimum"),
        ("22.1.30", Status.WARN, "treatment-plan API needs 22.4.16; attaching procedures to treatment plans needs 23.2.17"),
        ("22.4.16", Status.WARN, "attaching procedures to treatment plans needs 23.2.17"),
        ("23.2.17", Status.PASS, "(minimum 22.1)"),
    ],
)
def test_open_dental_version_notes(acme: Organization, version: str, status: Status, text: str) -> None:
    loc = replace(acme.location("downtown-metro"), pms=Pms(PmsProduct.OPENDENTAL, version))
    check = next(c for c in check_location(loc).checks if c.id == "pms")
    assert check.status is status and text in check.detail


def test_organization_checks(acme: Organization) -> None:
    checks = {c.id: c.status for c in check_organization(acme)}
    assert all(s is Status.PASS for s in checks.values())
    worse = replace(acme, identity_provider=None)
    checks = {c.id: c.status for c in check_organization(worse)}
    assert checks["identity_provider"] is Status.UNKNOWN
    assert "ai_threshold" not in checks  # the standards have one checker: compliance.config_standards


def test_every_example_location_is_checked(acme: Organization) -> None:
    results = check_locations(acme)
    assert len(results) == 25
    assert {r.location_id for r in results if r.passed} >= {"downtown-metro", "lakeview-implant", "riverside-ortho"}
