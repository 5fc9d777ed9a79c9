"""Who may send scans to golive's DICOM receiver, over what, and how much: one location's policy.

A `ReceiverPolicy` comes from the location's `dicom_receiver` block in the organization file (or,
for tests and the integration-validation stand-in at a location without one, the loopback-only
`loopback_default`). Decisions are pure functions of the policy and what the receiver observed, so
each refusal reason is unit-tested without a network; `receiver.py` applies them on the wire.

DICOM grounding:
- A-ASSOCIATE-RJ result / source / reason values: PS3.8 section 9.3.4, Table 9-21 (1 = rejected
  permanent, 2 = transient; source 1 = service user, 3 = service provider (presentation);
  reason 3 = calling AE title not recognized, 7 = called AE title not recognized, 2 with source 3 =
  local limit exceeded).
- TLS: PS3.15 Annex B, secure transport connection profiles. B.12 (BCP 195, RFC 8996 / 9325):
  servers and clients support TLS 1.2 and may support 1.3, nothing older; B.1 recommends the
  registered port 2762 (dicom-tls) and a TLS port distinct from any plain port, which is why a
  location with TLS gets its own TLS listener and never accepts plain DICOM on it.
  (dicom.nema.org/medical/dicom/current/output/chtml/part15/chapter_B.html, sect_B.12.html;
  PS3.8: .../part08/sect_9.3.4.html)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DICOM_TLS_PORT = 2762  # PS3.15 B.1 note: the registered "dicom-tls" port
MB = 1_000_000  # limits are written in decimal megabytes in the organization file


class ObjectType(str, Enum):
    """What a location may receive; each maps to the DICOM storage SOP classes that carry it."""

    CT = "ct"
    ENHANCED_CT = "enhanced_ct"  # stored as received; the analysis reads single-frame CT series
    INTRAORAL_XRAY = "intraoral_xray"
    INTRAORAL_SCAN = "intraoral_scan"  # DICOM surface scans / encapsulated STL, and STL/PLY uploads


SOP_CLASSES: Mapping[ObjectType, tuple[str, ...]] = {
    ObjectType.CT: ("1.2.840.10008.5.1.4.1.1.2",),  # CT Image Storage
    ObjectType.ENHANCED_CT: ("1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image Storage
                             "1.2.840.10008.5.1.4.1.1.2.2"),  # Legacy Converted Enhanced CT
    ObjectType.INTRAORAL_XRAY: ("1.2.840.10008.5.1.4.1.1.1.3",  # Digital Intra-Oral X-Ray, For Presentation
                                "1.2.840.10008.5.1.4.1.1.1.3.1"),  # ... For Processing
    ObjectType.INTRAORAL_SCAN: ("1.2.840.10008.5.1.4.1.1.104.3",  # Encapsulated STL Storage
                                "1.2.840.10008.5.1.4.1.1.68.1",  # Surface Scan Mesh Storage
                                "1.2.840.10008.5.1.4.1.1.68.2"),  # Surface Scan Point Cloud Storage
}


class RefusalReason(str, Enum):
    """Why a connection, association, object or upload was refused (the audit's `reason`)."""

    SOURCE_NETWORK = "source-not-allowed"
    CALLING_AE = "calling-ae-not-allowed"
    CALLED_AE = "called-ae-unknown"
    TLS_REQUIRED = "tls-required"
    TLS_CERT_EXPIRED = "certificate-expired"
    TLS_CERT_UNTRUSTED = "certificate-untrusted"
    TLS_CERT_MISSING = "certificate-missing"
    TLS_PROTOCOL = "tls-protocol-refused"
    TLS_HANDSHAKE = "tls-handshake-failed"
    SOP_CLASS = "sop-class-not-accepted"
    ASSOCIATION_SIZE = "association-size-limit"
    DAILY_SIZE = "daily-size-limit"
    DISK_FLOOR = "disk-space-floor"
    FILE_TYPE = "file-type-not-accepted"


# A-ASSOCIATE-RJ (result, source, reason) for refusals decided on the association request.
REJECT_CODES: Mapping[RefusalReason, tuple[int, int, int]] = {
    RefusalReason.CALLING_AE: (0x01, 0x01, 0x03),
    RefusalReason.CALLED_AE: (0x01, 0x01, 0x07),
    RefusalReason.TLS_REQUIRED: (0x01, 0x01, 0x01),
    RefusalReason.DISK_FLOOR: (0x02, 0x03, 0x02),
    RefusalReason.DAILY_SIZE: (0x02, 0x03, 0x02),
}


@dataclass(frozen=True)
class Decision:
    """A refusal: the reason (closed set) and a detail for people. Neither carries PHI."""

    reason: RefusalReason
    detail: str


@dataclass(frozen=True)
class TlsSettings:
    """The receiver's TLS: certificate and key (secret references), optional client CA."""

    certificate: str
    key: str
    client_ca: str | None = None
    required: bool = True
    port: int = DICOM_TLS_PORT


@dataclass(frozen=True)
class AssociationRequest:
    """What the receiver knows when an A-ASSOCIATE-RQ arrives (after any TLS handshake)."""

    calling_ae: str
    called_ae: str
    source: str
    tls: bool
    free_disk_bytes: int
    day_bytes: int


@dataclass(frozen=True)
class ReceiverPolicy:
    """One location's receiver policy. `allowed_calling_aes` None means any AE title (the built-in
    loopback default only; a location's policy in the organization file always lists them)."""

    location: str
    bind: str
    allowed_networks: tuple[IPNetwork, ...]
    allowed_calling_aes: frozenset[str] | None
    objects: frozenset[ObjectType] = frozenset({ObjectType.CT})
    port: int = 11112
    ae_title: str = "GOLIVE"
    max_association_bytes: int = 4_000 * MB
    max_day_bytes: int = 50_000 * MB
    min_free_disk_bytes: int = 10_000 * MB
    timezone: str = "UTC"
    tls: TlsSettings | None = None

    @property
    def tls_required(self) -> bool:
        return self.tls is not None and self.tls.required

    @property
    def sop_classes(self) -> tuple[str, ...]:
        return tuple(uid for t in ObjectType if t in self.objects for uid in SOP_CLASSES[t])

    def source_decision(self, source: str) -> Decision | None:
        """Refuse a TCP peer outside the allowed networks (before a byte of DICOM or TLS is read)."""
        try:
            addr = ipaddress.ip_address(source.split("%")[0])
        except ValueError:
            return Decision(RefusalReason.SOURCE_NETWORK, f"source {source!r} is not an IP address")
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if any(addr in net for net in self.allowed_networks):
            return None
        return Decision(RefusalReason.SOURCE_NETWORK,
                        f"source {addr} is outside the allowed networks ({_networks(self.allowed_networks)})")

    def association_decision(self, rq: AssociationRequest) -> Decision | None:
        """Refuse an association request; the first failing rule wins, cheapest and most specific first."""
        if self.tls_required and not rq.tls:
            return Decision(RefusalReason.TLS_REQUIRED, f"{self.location} accepts DICOM over TLS only")
        if self.allowed_calling_aes is not None and rq.calling_ae not in self.allowed_calling_aes:
            return Decision(RefusalReason.CALLING_AE,
                            f"calling AE title {rq.calling_ae!r} is not allowed to send to {self.location}")
        if rq.called_ae != self.ae_title:
            return Decision(RefusalReason.CALLED_AE,
                            f"called AE title {rq.called_ae!r} is not this receiver ({self.ae_title!r})")
        if rq.free_disk_bytes < self.min_free_disk_bytes:
            return Decision(RefusalReason.DISK_FLOOR,
                            f"free disk {_mb(rq.free_disk_bytes)} is below the floor of {_mb(self.min_free_disk_bytes)}")
        if rq.day_bytes >= self.max_day_bytes:
            return Decision(RefusalReason.DAILY_SIZE,
                            f"today's {_mb(rq.day_bytes)} reached the daily limit of {_mb(self.max_day_bytes)}")
        return None

    def size_decision(self, association_bytes: int, day_bytes: int) -> Decision | None:
        """Refuse more data once an association or the day passes its limit (checked as bytes arrive)."""
        if association_bytes > self.max_association_bytes:
            return Decision(RefusalReason.ASSOCIATION_SIZE,
                            f"the association passed its limit of {_mb(self.max_association_bytes)}")
        if day_bytes > self.max_day_bytes:
            return Decision(RefusalReason.DAILY_SIZE,
                            f"the day's transfers passed the daily limit of {_mb(self.max_day_bytes)}")
        return None

    def disk_decision(self, free_disk_bytes: int) -> Decision | None:
        if free_disk_bytes < self.min_free_disk_bytes:
            return Decision(RefusalReason.DISK_FLOOR,
                            f"free disk {_mb(free_disk_bytes)} is below the floor of {_mb(self.min_free_disk_bytes)}")
        return None

    def summary(self) -> dict[str, Any]:
        """JSON-safe description (no secrets: references are named, never resolved)."""
        return {
            "location": self.location, "bind": self.bind, "port": self.port, "ae_title": self.ae_title,
            "allowed_calling_aes": None if self.allowed_calling_aes is None else sorted(self.allowed_calling_aes),
            "allowed_networks": [str(n) for n in self.allowed_networks],
            "objects": sorted(t.value for t in self.objects),
            "max_association_mb": self.max_association_bytes // MB, "max_day_mb": self.max_day_bytes // MB,
            "min_free_disk_mb": self.min_free_disk_bytes // MB,
            "tls": None if self.tls is None else {
                "required": self.tls.required, "port": self.tls.port, "client_certificates": self.tls.client_ca is not None},
        }


def loopback_default(location: str = "local", ae_title: str = "GOLIVE") -> ReceiverPolicy:
    """Receive on loopback only, from loopback only, any AE title, CT and intraoral scans, no TLS.

    The policy of a receiver nobody configured (unit tests, the stand-in at a location without a
    `dicom_receiver` block): it cannot be reached from another host, so it never listens on every
    interface. The disk floor is lower than a location's default, since it only holds test sends.
    """
    return ReceiverPolicy(
        location=location, bind="127.0.0.1", ae_title=ae_title,
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        allowed_calling_aes=None, objects=frozenset({ObjectType.CT, ObjectType.INTRAORAL_SCAN}),
        min_free_disk_bytes=500 * MB)


def policy_from_mapping(location: str, spec: Mapping[str, Any], timezone: str = "UTC") -> ReceiverPolicy:
    """Build a policy from a validated `dicom_receiver` block (schema and semantic checks passed)."""
    tls = spec.get("tls")
    return ReceiverPolicy(
        location=location,
        bind=str(spec["bind"]),
        port=int(spec.get("port", 11112)),
        ae_title=str(spec.get("ae_title", "GOLIVE")),
        allowed_calling_aes=frozenset(str(a).strip() for a in spec["allowed_calling_aes"]),
        allowed_networks=tuple(ipaddress.ip_network(str(n), strict=True) for n in spec["allowed_networks"]),
        objects=frozenset(ObjectType(o) for o in spec.get("accept", ["ct"])),
        max_association_bytes=int(spec.get("max_association_mb", 4_000)) * MB,
        max_day_bytes=int(spec.get("max_day_mb", 50_000)) * MB,
        min_free_disk_bytes=int(spec.get("min_free_disk_mb", 10_000)) * MB,
        timezone=timezone,
        tls=None if not tls else TlsSettings(
            certificate=str(tls["certificate"]), key=str(tls["key"]),
            client_ca=str(tls["client_ca"]) if tls.get("client_ca") else None,
            required=bool(tls.get("required", True)), port=int(tls.get("port", DICOM_TLS_PORT))),
    )


def policy_for(org: Any, location: str | None) -> ReceiverPolicy | None:
    """The location's policy from the organization model, or None when it has no `dicom_receiver`."""
    if not location or org is None:
        return None
    loc = org.location(location)
    spec = getattr(loc, "dicom_receiver", None)
    return None if spec is None else policy_from_mapping(loc.id, spec, getattr(loc, "timezone", "UTC"))


def _networks(nets: Iterable[IPNetwork]) -> str:
    return ", ".join(str(n) for n in nets) or "none"


def _mb(n: int) -> str:
    if n >= 10 * MB:
        return f"{n / MB:,.0f} MB"
    return f"{n / MB:.1f} MB" if n >= MB // 10 else f"{n / 1000:,.0f} kB"
