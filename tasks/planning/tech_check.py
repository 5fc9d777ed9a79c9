"""Automated pre-implementation technical checks (playbook section 2) from the organization file.

Per location: CBCT and intraoral-scanner makers, workstation RAM, GPU class, SSD, monitor
resolution and operating system, network bandwidth and latency, PMS version against its minimum.
Per organization: identity provider, SSO protocol, provisioning, hosting and the configuration
standards. A check whose input is missing is `unknown`, which does not pass: the fix is to
document the input, not to assume it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from golive.tasks.planning.organization import HOSTING_ADVICE, Hosting, Location, Organization, PmsProduct
from golive.tasks.planning.readiness import (
    PMS_MINIMUM,
    PMS_MINIMUM_TEXT,
    SUPPORTED_CBCT,
    SUPPORTED_IOS,
    at_least,
    parse_version,
    supported_make,
)

MIN_RAM_GB = 16
MIN_MONITOR = (1920, 1080)
RECOMMENDED_MONITOR = (3840, 2160)
MIN_BANDWIDTH_MBPS = 50
MAX_LATENCY_MS = 100  # strictly below
MIN_MACOS = 12
# Open Dental API features newer than the 22.1 minimum (Open Dental API documentation).
OPENDENTAL_FEATURES = (((22, 4, 16), "treatment-plan API"), ((23, 2, 17), "attaching procedures to treatment plans"))


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"  # passes, with something to know
    FAIL = "fail"
    UNKNOWN = "unknown"  # input missing: does not pass

    @property
    def ok(self) -> bool:
        return self in (Status.PASS, Status.WARN)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    status: Status
    detail: str


@dataclass(frozen=True)
class LocationChecks:
    location_id: str
    name: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.status.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.status.ok)


# GPU classes: (pattern, verdict) checked in order; verdict True = GTX 1660 class or better.
_GPU_RULES: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(r"\b(intel|iris|uhd|hd graphics)\b", re.I), False),
    (re.compile(r"\bapple\s+m\d", re.I), True),
    (re.compile(r"\bgtx\s*(\d{3,4})", re.I), lambda n: n >= 1660 or n in (1070, 1080)),
    (re.compile(r"\brtx\s*a(\d{3,4})", re.I), lambda n: n >= 2000),
    (re.compile(r"\bquadro\s+rtx\b", re.I), True),
    (re.compile(r"\brtx\s*(\d{4})", re.I), lambda n: n >= 2000),
    (re.compile(r"\bquadro\s+[pkm]\d+|\bt\d{3,4}\b", re.I), False),
    (re.compile(r"\bradeon\s+(?:rx\s*)?(\d{3,4})", re.I), lambda n: n >= 9000 or (n >= 5000 and (n // 100) % 10 >= 6)),
)


def gpu_class_ok(gpu: str) -> bool | None:
    """True when at least GTX 1660 class, False when below, None when not recognised."""
    for pattern, verdict in _GPU_RULES:
        m = pattern.search(gpu)
        if m:
            if callable(verdict):
                return bool(verdict(int(m.group(1))))
            return bool(verdict)
    return None


_WINDOWS = re.compile(r"windows\s+(\d+)\s*(pro|enterprise|education|home)?", re.I)
_MACOS = re.compile(r"mac\s*os(?:\s*x)?\s+(\d+)", re.I)


def os_ok(os_name: str) -> tuple[bool | None, str]:
    m = _WINDOWS.search(os_name)
    if m:
        version, edition = int(m.group(1)), (m.group(2) or "").lower()
        if version not in (10, 11):
            return False, f"{os_name}: Windows {version} is not supported (10/11 Pro 64-bit)"
        if edition not in ("pro", "enterprise", "education"):
            return False, f"{os_name}: needs the Pro edition (or Enterprise/Education) of Windows"
        if re.search(r"32[- ]?bit|x86\b", os_name, re.I):
            return False, f"{os_name}: needs 64-bit"
        return True, os_name
    m = _MACOS.search(os_name)
    if m:
        v = int(m.group(1))
        return (v >= MIN_MACOS, os_name if v >= MIN_MACOS else f"{os_name}: needs macOS {MIN_MACOS}+")
    return None, f"{os_name}: not recognised (Windows 10/11 Pro 64-bit or macOS 12+)"


def _resolution(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _monitor(text: str) -> tuple[bool, str]:
    w, h = _resolution(text)
    ok = w >= MIN_MONITOR[0] and h >= MIN_MONITOR[1]
    below_4k = w < RECOMMENDED_MONITOR[0] or h < RECOMMENDED_MONITOR[1]
    return ok, text + (" (4K recommended)" if ok and below_4k else "")


def check_location(loc: Location) -> LocationChecks:
    checks: list[Check] = []

    def add(cid: str, title: str, status: Status, detail: str) -> None:
        checks.append(Check(cid, title, status, detail))

    cbct = loc.imaging.cbct
    if cbct is None:
        add("cbct", "CBCT scanner supported", Status.FAIL, "no CBCT scanner documented")
    elif supported_make(cbct.make, SUPPORTED_CBCT):
        add("cbct", "CBCT scanner supported", Status.PASS, f"{cbct.make} {cbct.model or ''}".strip())
    else:
        add("cbct", "CBCT scanner supported", Status.FAIL,
            f"{cbct.make} is not a supported maker ({', '.join(SUPPORTED_CBCT)})")
    ios = loc.imaging.ios
    if ios is None:
        add("ios", "Intraoral scanner supported", Status.PASS, "no intraoral scanner (not applicable)")
    elif supported_make(ios.make, SUPPORTED_IOS):
        add("ios", "Intraoral scanner supported", Status.PASS, f"{ios.make} {ios.model or ''}".strip())
    else:
        add("ios", "Intraoral scanner supported", Status.FAIL,
            f"{ios.make} is not a supported maker ({', '.join(SUPPORTED_IOS)})")

    ws = loc.workstations
    _each(add, "ram", f"Workstation RAM ≥ {MIN_RAM_GB} GB", ws, lambda w: w.ram_gb,
          lambda v: (v >= MIN_RAM_GB, f"{v:g} GB"))
    _each(add, "gpu", "Dedicated GPU, GTX 1660 class or better", ws, lambda w: w.gpu,
          lambda v: (gpu_class_ok(v), v))
    _each(add, "ssd", "SSD storage", ws, lambda w: w.ssd, lambda v: (bool(v), "SSD" if v else "no SSD"))
    _each(add, "monitor", "Monitor ≥ 1920×1080", ws, lambda w: w.monitor, _monitor)
    _each(add, "os", "Windows 10/11 Pro 64-bit or macOS 12+", ws, lambda w: w.os, os_ok)

    net = loc.network
    bw = net.bandwidth_mbps if net else None
    if bw is None:
        add("bandwidth", f"Bandwidth ≥ {MIN_BANDWIDTH_MBPS} Mbps", Status.UNKNOWN, "not documented")
    else:
        add("bandwidth", f"Bandwidth ≥ {MIN_BANDWIDTH_MBPS} Mbps", Status.PASS if bw >= MIN_BANDWIDTH_MBPS else Status.FAIL,
            f"{bw:g} Mbps" + ("" if bw >= MIN_BANDWIDTH_MBPS else " (upgrade before rollout)"))
    lat = net.latency_ms if net else None
    if lat is None:
        add("latency", f"Latency < {MAX_LATENCY_MS} ms", Status.UNKNOWN, "not documented")
    else:
        add("latency", f"Latency < {MAX_LATENCY_MS} ms", Status.PASS if lat < MAX_LATENCY_MS else Status.FAIL, f"{lat:g} ms")

    pms = loc.pms
    if pms is None or pms.version is None:
        add("pms", "PMS version at or above minimum", Status.UNKNOWN, "PMS version not documented")
    else:
        add("pms", "PMS version at or above minimum", *_pms_status(pms.product, pms.version))
    return LocationChecks(loc.id, loc.name, tuple(checks))


def _each(add, cid, title, workstations, get, judge) -> None:  # type: ignore[no-untyped-def]
    """One check over every workstation group: fails if any group fails, unknown if any is missing."""
    if not workstations:
        add(cid, title, Status.UNKNOWN, "no workstations documented")
        return
    details, status = [], Status.PASS
    for w in workstations:
        value = get(w)
        if value is None:
            status = Status.UNKNOWN if status == Status.PASS else status
            details.append("not documented")
            continue
        ok, detail = judge(value)
        if ok is None:
            status = Status.UNKNOWN if status == Status.PASS else status
            details.append(f"{detail} (not recognised; verify manually)")
        elif not ok:
            status = Status.FAIL
            details.append(detail)
        else:
            details.append(detail)
    add(cid, title, status, "; ".join(f"{w.count}× {d}" for w, d in zip(workstations, details, strict=True)))


def _pms_status(product: PmsProduct, version: str) -> tuple[Status, str]:
    try:
        v = parse_version(version)
    except ValueError:
        return Status.UNKNOWN, f"{product.value} version {version!r} not recognised"
    label = f"{product.value} {version}"
    if not at_least(v, PMS_MINIMUM[product]):
        return Status.FAIL, f"{label} is below the {PMS_MINIMUM_TEXT[product]} minimum: upgrade first"
    if product == PmsProduct.OPENDENTAL:
        missing = [what for need, what in OPENDENTAL_FEATURES if not at_least(v, need)]
        if missing:
            needs = "; ".join(f"{what} needs {'.'.join(map(str, need))}" for need, what in OPENDENTAL_FEATURES if what in missing)
            return Status.WARN, f"{label} meets 22.1, but {needs}"
    return Status.PASS, f"{label} (minimum {PMS_MINIMUM_TEXT[product]})"


def check_organization(org: Organization) -> tuple[Check, ...]:
    """SSO, provisioning, hosting and the configuration standards."""
    out = []
    idp = org.identity_provider
    out.append(Check("identity_provider", "Identity provider documented",
                     Status.PASS if idp else Status.UNKNOWN, idp or "not documented (Okta, Azure AD, Google Workspace)"))
    sso = org.sso_protocol
    out.append(Check("sso", "SSO protocol supported (SAML 2.0 or OAuth 2.0)",
                     Status.PASS if sso else Status.UNKNOWN, sso or "not documented"))
    prov = org.provisioning
    out.append(Check("provisioning", "User provisioning workflow defined",
                     Status.PASS if prov else Status.UNKNOWN,
                     {"scim": "automated via SCIM", "manual": "manual"}.get(prov or "", "not documented")))
    h = org.hosting
    out.append(Check("hosting", "Hosting decision", Status.WARN if h == Hosting.ON_PREMISE else Status.PASS,
                     f"{h.value}: {HOSTING_ADVICE[h]}" + (f" Reason: {org.hosting_reason}" if org.hosting_reason else "")))
    # The configuration standards (auto-logout, AI confidence threshold, retention, ...) are judged
    # in one place, by the rules of schemas/platform-configuration.schema.json (compliance.config_standards).
    return tuple(out)


def check_locations(org: Organization, only: Iterable[str] | None = None) -> tuple[LocationChecks, ...]:
    wanted = list(only) if only is not None else None
    if wanted is not None:
        return tuple(check_location(org.location(i)) for i in wanted)
    return tuple(check_location(loc) for loc in org.locations)


def check_rows(results: Iterable[LocationChecks]) -> list[dict[str, object]]:
    rows = []
    for r in results:
        row: dict[str, object] = {"location": r.name, "id": r.location_id, "result": "pass" if r.passed else "fail"}
        for c in r.checks:
            row[c.id] = c.status.value
        row["failures"] = "; ".join(f"{c.id}: {c.detail}" for c in r.failures)
        rows.append(row)
    return rows
