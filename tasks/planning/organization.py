"""The organization file: the dental group described once, loaded into frozen values.

`load_organization(path)` reads YAML with positions (`golive.tasks.foundation.yamlsafe`), checks it against
`schemas/organization.schema.json` (`golive.tasks.foundation.schema_check`), then runs the semantic checks a schema
cannot express (unique ids, references between regions, locations and people, credentials that
must be references). Every problem comes back at once as `OrganizationInvalid`, each issue as
`PATH:LINE:COL: error: MESSAGE`. Only a file that passed everything becomes an `Organization`.

Shares and rates are fractions (0.22 = 22%). Optional inputs stay `None` when absent, so the
readiness scorers can tell "missing" from "zero".
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from golive.tasks.foundation.errors import RunbookInvalid, UserInputError
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.schema_check import json_path, load_schema, schema_issues
from golive.tasks.foundation.yamlsafe import load_yaml, position

ROLES: tuple[str, ...] = (
    "Board", "CEO", "CFO", "COO", "CDO", "VP of IT", "VP of Clinical", "VP of Ops",
    "Regional Manager", "Office Manager", "Provider", "Hygienist", "Front Desk", "Central IT",
    "Clinical Lead", "Legal", "Vendor",
)  # fmt: skip
REGIONAL_ROLES = frozenset({"Regional Manager"})
LOCATION_ROLES = frozenset({"Office Manager", "Provider", "Hygienist", "Front Desk"})
# The vendor's key contacts (playbook section 2), each a person with role Vendor.
VENDOR_CONTACTS: tuple[str, ...] = (
    "customer_success_manager", "integration_specialist", "clinical_training_lead", "support_desk",
)  # fmt: skip

SECRET_REF = re.compile(r"^(env:[A-Z_][A-Z0-9_]*|prefect-secret:[a-z0-9][a-z0-9-]*)$")
# Credentials smuggled into a URL or an ODBC connection string are as bad as a literal key.
_URL_CREDENTIALS = re.compile(r"^[a-z]+://[^/@\s]+@", re.IGNORECASE)
_DSN_CREDENTIALS = re.compile(r"(^|;)\s*(pwd|password|apikey|api_key|key)\s*=", re.IGNORECASE)


class OrganizationInvalid(RunbookInvalid):
    """The organization file failed loading, schema or semantic checks (issues carry positions)."""


class UnknownLocation(UserInputError):
    """A location id that the organization file does not define."""


class PmsProduct(str, Enum):
    DENTRIX = "dentrix"
    EAGLESOFT = "eaglesoft"
    OPENDENTAL = "opendental"


class Hosting(str, Enum):
    CLOUD = "cloud"
    HYBRID = "hybrid"
    ON_PREMISE = "on_premise"


HOSTING_ADVICE: dict[Hosting, str] = {
    Hosting.CLOUD: "Recommended for most DSOs: no local infrastructure, automatic updates, centralized data.",
    Hosting.HYBRID: "Consider for locations with poor connectivity: faster local performance, more complex setup.",
    Hosting.ON_PREMISE: "Not recommended: high maintenance, manual updates, no centralized view.",
}


@dataclass(frozen=True)
class Notifications:
    channels: tuple[str, ...] = ("email",)
    recipients: tuple[str, ...] = ("provider", "office_manager")
    case_ready: bool = True
    low_confidence_review: bool = True


@dataclass(frozen=True)
class Standards:
    """Enterprise configuration standards; defaults are the playbook's."""

    implant_library: tuple[str, ...] = ()
    units: str = "metric"
    report_template: str = "standard"
    notifications: Notifications = Notifications()
    auto_logout_minutes: int = 15
    image_retention_years: int | None = None
    ai_confidence_threshold: float = 0.85
    pms_releases: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Region:
    id: str
    name: str


@dataclass(frozen=True)
class Person:
    name: str
    roles: tuple[str, ...]
    region: str | None = None
    location: str | None = None
    email: str | None = None
    phone: str | None = None
    vendor_contact: str | None = None  # one of VENDOR_CONTACTS, for people with role Vendor


@dataclass(frozen=True)
class Vendor:
    """The platform vendor; its key contacts are people with role Vendor."""

    name: str
    support_sla: dict[str, str] = field(default_factory=dict)  # priority -> first-response duration
    status_page: Mapping[str, Any] | None = None  # {url, component, components}: uptime from the vendor's page


@dataclass(frozen=True)
class AccessControl:
    """The Access Control Matrix as the organization file gives it (role -> permission -> level).

    Plain strings checked by the schema; `golive.tasks.compliance.access` reads them into enums.
    """

    basis: str  # assumption | approved
    matrix: dict[str, dict[str, str]]
    note: str | None = None
    service_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connection:
    secret: str
    base_url: str | None = None
    dsn: str | None = None
    developer_secret: str | None = None
    throttle: str | None = None  # Open Dental pacing: read_all (default) | extended | local


@dataclass(frozen=True)
class Pms:
    product: PmsProduct
    version: str | None = None
    api_enabled: bool | None = None
    integrations_stable: bool | None = None
    middleware: bool | None = None
    connection: Connection | None = None


@dataclass(frozen=True)
class Device:
    make: str
    model: str | None = None
    software_version: str | None = None


@dataclass(frozen=True)
class Imaging:
    cbct: Device | None = None
    ios: Device | None = None


@dataclass(frozen=True)
class Network:
    connection: str | None = None
    bandwidth_mbps: float | None = None
    latency_ms: float | None = None
    reliable: bool = True


@dataclass(frozen=True)
class Workstation:
    count: int = 1
    ram_gb: float | None = None
    gpu: str | None = None
    os: str | None = None
    age_years: float | None = None
    ssd: bool | None = None
    monitor: str | None = None


@dataclass(frozen=True)
class Staff:
    annual_turnover: float | None = None
    adoption_history: str | None = None
    training_completion: float | None = None


@dataclass(frozen=True)
class Champion:
    provider: str | None = None
    office_manager: str | None = None
    previous_experience: bool = False
    peer_influence: bool = True


@dataclass(frozen=True)
class ProviderExperience:
    experienced: int = 0
    mid_career: int = 0
    newer: int = 0


@dataclass(frozen=True)
class Override:
    score: int
    reason: str


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    region: str
    timezone: str
    hosting: Hosting | None = None
    patients_per_day: float | None = None
    implant_share: float | None = None
    ortho_share: float | None = None
    monthly_revenue: float | None = None
    provider_experience: ProviderExperience | None = None
    it_support: str | None = None
    pms: Pms | None = None
    imaging: Imaging = Imaging()
    network: Network | None = None
    workstations: tuple[Workstation, ...] = ()
    staff: Staff | None = None
    champion: Champion | None = None
    overrides: dict[str, Override] = field(default_factory=dict)
    # golive's own DICOM receiver here, as validated; its meaning lives in golive.tasks.imaging.policy
    dicom_receiver: Mapping[str, Any] | None = None
    calendar: Mapping[str, Any] | None = None  # closed days, as validated; read by golive.tasks.gates.collect.calendar

    @property
    def specialty_share(self) -> float | None:
        """Implant plus ortho share of revenue, or None when either is unknown.

        Rounded so that 0.2 + 0.1 is exactly 0.3 at the table's "30%" bound (binary floats are not).
        """
        if self.implant_share is None or self.ortho_share is None:
            return None
        return round(self.implant_share + self.ortho_share, 9)


@dataclass(frozen=True)
class DocumentStyle:
    """The frame of generated documents (`documents:`); paths resolved against the organization file."""

    company_name: str | None = None
    rollout_office: str | None = None
    confidentiality: str | None = None
    primary: str | None = None
    accent: str | None = None
    logo: Path | None = None
    reference: Path | None = None


@dataclass(frozen=True)
class EmailChannel:
    host: str
    sender: str
    port: int = 587
    username: str | None = None  # secret references, resolved only when sending
    password: str | None = None
    security: str = "starttls"  # or "plain-local"
    ca_file: Path | None = None  # a private CA for the SMTP server's certificate (else the system's)


@dataclass(frozen=True)
class WebhookChannel:
    name: str
    url: str  # a secret reference to an apprise URL
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """Channels for messages (`delivery:`); no channel means the outbox folder."""

    email: EmailChannel | None = None
    webhooks: tuple[WebhookChannel, ...] = ()
    outbox: Path | None = None


@dataclass(frozen=True)
class Investment:
    """The rollout's costs (`investment:`), for the ROI report."""

    licence_per_location_month: float
    currency: str = "USD"
    hardware: float = 0.0
    implementation: float = 0.0
    training_hours: float = 0.0
    training_hour_cost: float = 0.0
    planned_payback_months: float | None = None


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class Organization:
    name: str
    timezone: str
    regions: tuple[Region, ...]
    locations: tuple[Location, ...]
    people: tuple[Person, ...] = ()
    identity_provider: str | None = None
    sso_protocol: str | None = None
    provisioning: str | None = None
    hosting: Hosting = Hosting.CLOUD
    hosting_reason: str | None = None
    standards: Standards = Standards()
    vendor: Vendor | None = None
    access_control: AccessControl | None = None
    source: str = ""
    documents: DocumentStyle | None = None
    delivery: Delivery | None = None
    investment: Investment | None = None
    holidays: tuple[Holiday, ...] = ()
    calendar: Mapping[str, Any] | None = None  # offices' closed days (weekdays, holidays) for metric collection

    @property
    def holiday_days(self) -> frozenset[date]:
        """The group's holidays as days (no go-live, check-in or due date falls on one)."""
        return frozenset(h.day for h in self.holidays)

    def location(self, location_id: str) -> Location:
        for loc in self.locations:
            if loc.id == location_id:
                return loc
        close = difflib.get_close_matches(location_id, [x.id for x in self.locations], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownLocation(f"unknown location '{location_id}' in {self.name}{hint}")

    def region(self, region_id: str) -> Region:
        for r in self.regions:
            if r.id == region_id:
                return r
        raise UserInputError(f"unknown region '{region_id}' in {self.name}")

    def people_with_role(self, role: str) -> tuple[Person, ...]:
        return tuple(p for p in self.people if role in p.roles)

    def vendor_contact(self, contact: str) -> Person | None:
        """The vendor's key contact of that kind (`customer_success_manager`, ...), if recorded."""
        if contact not in VENDOR_CONTACTS:
            raise UserInputError(f"unknown vendor contact {contact!r}; known: {', '.join(VENDOR_CONTACTS)}")
        return next((p for p in self.people if p.vendor_contact == contact), None)

    def locations_in(self, region_id: str) -> tuple[Location, ...]:
        return tuple(loc for loc in self.locations if loc.region == region_id)

    @property
    def hosting_advice(self) -> str:
        """The playbook's recommendation for the chosen hosting option."""
        return HOSTING_ADVICE[self.hosting]


# ---------------------------------------------------------------------------------------------
# Loading


def load_organization(path: str | Path) -> Organization:
    """Load and validate an organization file; `OrganizationInvalid` lists every problem."""
    name = str(path)
    try:
        doc = load_yaml(path)
    except OrganizationInvalid:
        raise
    except RunbookInvalid as exc:
        raise OrganizationInvalid(exc.issues) from None
    issues = schema_issues(doc, load_schema("organization.schema.json"), name)
    flagged = {i.json_path for i in issues}
    issues += [i for i in semantic_issues(doc, name) if i.json_path not in flagged]  # one message per node
    errors = [i for i in issues if i.severity.value == "error"]
    if errors:
        raise OrganizationInvalid(sorted(issues, key=lambda i: (i.line, i.column, i.message)))
    return build_organization(doc, name)


def semantic_issues(doc: Any, path: str) -> list[ValidationIssue]:
    """Checks across the file that the schema cannot express.

    Tolerant of a document that failed the schema (wrong shapes are skipped, the schema already
    reported them), so one pass reports every problem of the file.
    """
    issues: list[ValidationIssue] = []

    def issue(where: tuple[str | int, ...], message: str, hint: str | None = None) -> None:
        line, column = position(doc, where)
        label = json_path(where)[1:].lstrip(".")
        issues.append(ValidationIssue(path, line, column, f"{label}: {message}", json_path(where), hint=hint))

    _calendar_issues(doc, issue)
    region_ids = _unique(doc.get("regions"), ("regions",), "region", issue)
    location_ids = _unique(doc.get("locations"), ("locations",), "location", issue)

    for i, loc in _mappings(doc.get("locations")):
        where: tuple[str | int, ...] = ("locations", i)
        region = loc.get("region")
        if isinstance(region, str) and region_ids and region not in region_ids:
            issue((*where, "region"), f"unknown region '{region}'", _did_you_mean(region, region_ids))
        pms = loc.get("pms") if isinstance(loc.get("pms"), dict) else {}
        conn = pms.get("connection")
        if isinstance(conn, dict):
            cwhere = (*where, "pms", "connection")
            product = pms.get("product")
            if product == "opendental" and "base_url" not in conn:
                issue(cwhere, "an Open Dental connection needs 'base_url' (the API endpoint)")
            if product in ("dentrix", "eaglesoft") and "dsn" not in conn:
                issue(cwhere, f"a {str(product).title()} connection needs 'dsn' (the ODBC data source name)")
            if "base_url" in conn and _URL_CREDENTIALS.search(str(conn["base_url"])):
                issue((*cwhere, "base_url"), "the URL carries credentials", "put them in a secret and reference it with 'secret:'")
            if "dsn" in conn and _DSN_CREDENTIALS.search(str(conn["dsn"])):
                issue((*cwhere, "dsn"), "the DSN carries a password or key", "put it in a secret and reference it with 'secret:'")
        if isinstance(loc.get("dicom_receiver"), dict):
            _dicom_receiver_issues(loc["dicom_receiver"], (*where, "dicom_receiver"), issue)
        shares = [loc.get("implant_share"), loc.get("ortho_share")]
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in shares) and sum(shares) > 1:
            issue((*where, "ortho_share"), "implant and ortho shares add up to more than 100% of revenue")

    contacts: dict[str, int] = {}
    for i, person in _mappings(doc.get("people")):
        where = ("people", i)
        region, location = person.get("region"), person.get("location")
        name = person.get("name", f"people[{i}]")
        if isinstance(region, str) and region_ids and region not in region_ids:
            issue((*where, "region"), f"unknown region '{region}'", _did_you_mean(region, region_ids))
        if isinstance(location, str) and location_ids and location not in location_ids:
            issue((*where, "location"), f"unknown location '{location}'", _did_you_mean(location, location_ids))
        roles = {r for r in person.get("roles") or () if isinstance(r, str)} if isinstance(person.get("roles"), list) else set()
        if roles & REGIONAL_ROLES and region is None:
            issue(where, f"{name} is a Regional Manager but has no 'region'")
        if roles & LOCATION_ROLES and location is None:
            which = ", ".join(sorted(roles & LOCATION_ROLES))
            issue(where, f"{name} ({which}) has no 'location'")
        contact = person.get("vendor_contact")
        if isinstance(contact, str):
            if "Vendor" not in roles:
                issue((*where, "vendor_contact"), f"{name} is a vendor contact but does not have the role Vendor")
            if contact in contacts:
                issue((*where, "vendor_contact"), f"two people are the vendor's {contact}",
                      f"first given at people[{contacts[contact]}]")
            contacts.setdefault(contact, i)
    _frame_and_delivery_issues(doc, path, issue)
    return issues


def _known_zone(name: Any) -> bool:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _calendar_issues(doc: Any, issue: Any) -> None:
    """Time zones that exist in the IANA database (the pattern alone passes 'America/Chikago'), and
    holidays that are real, distinct days."""
    zone = doc.get("timezone")
    if isinstance(zone, str) and not _known_zone(zone):
        issue(("timezone",), f"unknown IANA time zone '{zone}'", "e.g. 'America/Chicago' (see the tz database)")
    for i, loc in _mappings(doc.get("locations")):
        if isinstance(loc.get("timezone"), str) and not _known_zone(loc["timezone"]):
            issue(("locations", i, "timezone"), f"unknown IANA time zone '{loc['timezone']}'",
                  "e.g. 'America/Denver' (see the tz database)")
    seen: dict[date, int] = {}
    for i, h in _mappings(doc.get("holidays")):
        text = h.get("date")
        if not isinstance(text, str):
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            issue(("holidays", i, "date"), f"'{text}' is not a calendar day")
            continue
        if day in seen:
            issue(("holidays", i, "date"), f"{text} is listed twice", f"first at holidays[{seen[day]}]")
        seen.setdefault(day, i)


def _frame_and_delivery_issues(doc: Any, path: str, issue: Any) -> None:
    """Logo and reference template exist; plain SMTP only towards this machine."""
    docs = doc.get("documents")
    if isinstance(docs, dict):
        for key in ("logo", "reference_template"):
            value = docs.get(key)
            if isinstance(value, str) and not (_beside(path, value) or Path(value)).is_file():
                issue(("documents", key), f"file '{value}' not found (paths are relative to the organization file)")
    delivery = doc.get("delivery")
    mail = delivery.get("email") if isinstance(delivery, dict) else None
    if isinstance(mail, dict) and mail.get("security") == "plain-local" and \
            str(mail.get("host")) not in ("localhost", "127.0.0.1", "::1"):
        issue(("delivery", "email", "security"), "plain-local (no TLS) is only for a relay on localhost",
              "use starttls for a remote SMTP server")


def _dicom_receiver_issues(rx: dict[str, Any], where: tuple[str | int, ...], issue: Any) -> None:
    """Addresses and networks that parse, no wildcard bind, distinct ports, limits that fit together."""
    bind = rx.get("bind")
    if isinstance(bind, str):
        try:
            if ipaddress.ip_address(bind).is_unspecified:
                issue((*where, "bind"), f"'{bind}' listens on every interface",
                      "name the address of the imaging network's interface (one receiver per address)")
        except ValueError:
            issue((*where, "bind"), f"'{bind}' is not an IP address")
    for i, net in enumerate(rx.get("allowed_networks") or ()):
        if not isinstance(net, str):
            continue
        try:
            ipaddress.ip_network(net, strict=True)
        except ValueError as exc:
            hint = None
            try:
                hint = f"did you mean '{ipaddress.ip_network(net, strict=False)}'?"
            except ValueError:
                pass
            issue((*where, "allowed_networks", i), f"'{net}' is not a network in CIDR form ({exc})", hint)
    tls = rx.get("tls") if isinstance(rx.get("tls"), dict) else None
    if tls is not None and not tls.get("required", True) and tls.get("port", 2762) == rx.get("port", 11112):
        issue((*where, "tls", "port"), "the TLS port must differ from the plain port (DICOM PS3.15 Annex B.1)")
    per_assoc, per_day = rx.get("max_association_mb", 4000), rx.get("max_day_mb", 50000)
    if isinstance(per_assoc, int) and isinstance(per_day, int) and per_assoc > per_day:
        issue((*where, "max_association_mb"), f"one association ({per_assoc} MB) may not exceed the daily limit ({per_day} MB)")


def _mappings(items: Any) -> Iterable[tuple[int, Any]]:
    if isinstance(items, list):
        yield from ((i, item) for i, item in enumerate(items) if isinstance(item, dict))


def _unique(items: Any, where: tuple[str, ...], what: str, issue: Any) -> set[str]:
    seen: dict[str, int] = {}
    for i, item in _mappings(items):
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            issue((*where, i, "id"), f"duplicate {what} id '{ident}'", f"first defined at {where[0]}[{seen[ident]}]")
        else:
            seen[ident] = i
    return set(seen)


def _did_you_mean(value: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(value, sorted(options), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def build_organization(doc: Any, source: str = "") -> Organization:
    """Turn a validated document (mapping) into frozen values."""
    org_tz = str(doc["timezone"])
    std = doc.get("standards") or {}
    notif = std.get("notifications") or {}
    standards = Standards(
        implant_library=tuple(std.get("implant_library", ())),
        units=std.get("units", "metric"),
        report_template=std.get("report_template", "standard"),
        notifications=Notifications(
            channels=tuple(notif.get("channels", ("email",))),
            recipients=tuple(notif.get("recipients", ("provider", "office_manager"))),
            case_ready=bool(notif.get("case_ready", True)),
            low_confidence_review=bool(notif.get("low_confidence_review", True)),
        ),
        auto_logout_minutes=int(std.get("auto_logout_minutes", 15)),
        image_retention_years=std.get("image_retention_years"),
        ai_confidence_threshold=float(std.get("ai_confidence_threshold", 0.85)),
        pms_releases={k: tuple(str(v) for v in vs) for k, vs in (std.get("pms_releases") or {}).items()},
    )
    return Organization(
        name=str(doc["name"]),
        timezone=org_tz,
        regions=tuple(Region(id=r["id"], name=r["name"]) for r in doc["regions"]),
        locations=tuple(_location(loc, org_tz) for loc in doc["locations"]),
        people=tuple(
            Person(
                name=p["name"],
                roles=tuple(p["roles"]),
                region=p.get("region"),
                location=p.get("location"),
                email=p.get("email"),
                phone=p.get("phone"),
                vendor_contact=p.get("vendor_contact"),
            )
            for p in doc.get("people", [])
        ),
        identity_provider=doc.get("identity_provider"),
        sso_protocol=doc.get("sso_protocol"),
        provisioning=doc.get("provisioning"),
        hosting=Hosting(doc.get("hosting", "cloud")),
        holidays=tuple(sorted((Holiday(date.fromisoformat(str(h["date"])), str(h["name"]))
                               for h in doc.get("holidays") or ()), key=lambda h: h.day)),
        hosting_reason=doc.get("hosting_reason"),
        standards=standards,
        vendor=_vendor(doc.get("vendor")),
        access_control=_access_control(doc.get("access_control")),
        source=source,
        documents=_documents(doc.get("documents"), source),
        delivery=_delivery(doc.get("delivery"), source),
        investment=Investment(**{k: v for k, v in doc["investment"].items()}) if doc.get("investment") else None,
        calendar=_plain_map(doc.get("calendar")),
    )


def _beside(source: str, value: Any) -> Path | None:
    if not value:
        return None
    path = Path(str(value))
    return path if path.is_absolute() or not source else Path(source).parent / path


def _documents(d: dict[str, Any] | None, source: str) -> DocumentStyle | None:
    if not d:
        return None
    return DocumentStyle(
        company_name=_opt(d, "company_name", str), rollout_office=_opt(d, "rollout_office", str),
        confidentiality=_opt(d, "confidentiality", str), primary=_opt(d, "primary_colour", str),
        accent=_opt(d, "accent_colour", str), logo=_beside(source, d.get("logo")),
        reference=_beside(source, d.get("reference_template")),
    )


def _delivery(d: dict[str, Any] | None, source: str) -> Delivery | None:
    if not d:
        return None
    mail = d.get("email")
    return Delivery(
        email=EmailChannel(
            host=str(mail["host"]), sender=str(mail["sender"]), port=int(mail.get("port", 587)),
            username=_opt(mail, "username", str), password=_opt(mail, "password", str),
            security=str(mail.get("security", "starttls")), ca_file=_beside(source, mail.get("ca_file")),
        ) if mail else None,
        webhooks=tuple(WebhookChannel(name=str(w["name"]), url=str(w["url"]), roles=tuple(w["roles"]))
                       for w in d.get("webhooks", ())),
        outbox=_beside(source, d.get("outbox")),
    )


def _vendor(d: dict[str, Any] | None) -> Vendor | None:
    if not d:
        return None
    return Vendor(name=str(d["name"]), support_sla={str(k): str(v) for k, v in (d.get("support_sla") or {}).items()},
                  status_page=_plain_map(d.get("status_page")))


def _access_control(d: dict[str, Any] | None) -> AccessControl | None:
    if not d:
        return None
    return AccessControl(
        basis=str(d["basis"]),
        matrix={str(role): {str(k): str(v) for k, v in row.items()} for role, row in d["matrix"].items()},
        note=_opt(d, "note", str),
        service_accounts=tuple(str(a) for a in d.get("service_accounts", ())),
    )


def _plain_map(d: Any) -> dict[str, Any] | None:
    return _plain(d) if d else None


def _opt(d: dict[str, Any] | None, key: str, cast: Any = None) -> Any:
    if not d or d.get(key) is None:
        return None
    return cast(d[key]) if cast else d[key]


def _location(d: dict[str, Any], org_tz: str) -> Location:
    pms = d.get("pms")
    conn = (pms or {}).get("connection")
    imaging = d.get("imaging") or {}
    net = d.get("network")
    staff = d.get("staff")
    champ = d.get("champion")
    exp = d.get("provider_experience")
    return Location(
        id=d["id"],
        name=d["name"],
        region=d["region"],
        timezone=d.get("timezone", org_tz),
        hosting=Hosting(d["hosting"]) if d.get("hosting") else None,
        patients_per_day=_opt(d, "patients_per_day", float),
        implant_share=_opt(d, "implant_share", float),
        ortho_share=_opt(d, "ortho_share", float),
        monthly_revenue=_opt(d, "monthly_revenue", float),
        provider_experience=ProviderExperience(
            experienced=int(exp.get("experienced", 0)),
            mid_career=int(exp.get("mid_career", 0)),
            newer=int(exp.get("newer", 0)),
        )
        if exp
        else None,
        it_support=d.get("it_support"),
        pms=Pms(
            product=PmsProduct(pms["product"]),
            version=_opt(pms, "version", str),
            api_enabled=_opt(pms, "api_enabled", bool),
            integrations_stable=_opt(pms, "integrations_stable", bool),
            middleware=_opt(pms, "middleware", bool),
            connection=Connection(
                secret=conn["secret"],
                base_url=conn.get("base_url"),
                dsn=conn.get("dsn"),
                developer_secret=conn.get("developer_secret"),
                throttle=conn.get("throttle"),
            )
            if conn
            else None,
        )
        if pms
        else None,
        imaging=Imaging(cbct=_device(imaging.get("cbct")), ios=_device(imaging.get("ios"))),
        network=Network(
            connection=_opt(net, "connection"),
            bandwidth_mbps=_opt(net, "bandwidth_mbps", float),
            latency_ms=_opt(net, "latency_ms", float),
            reliable=bool(net.get("reliable", True)),
        )
        if net
        else None,
        workstations=tuple(
            Workstation(
                count=int(w.get("count", 1)),
                ram_gb=_opt(w, "ram_gb", float),
                gpu=_opt(w, "gpu", str),
                os=_opt(w, "os", str),
                age_years=_opt(w, "age_years", float),
                ssd=_opt(w, "ssd", bool),
                monitor=_opt(w, "monitor", str),
            )
            for w in d.get("workstations", ())
        ),
        staff=Staff(
            annual_turnover=_opt(staff, "annual_turnover", float),
            adoption_history=_opt(staff, "adoption_history"),
            training_completion=_opt(staff, "training_completion", float),
        )
        if staff
        else None,
        champion=Champion(
            provider=_opt(champ, "provider"),
            office_manager=_opt(champ, "office_manager"),
            previous_experience=bool(champ.get("previous_experience", False)),
            peer_influence=bool(champ.get("peer_influence", True)),
        )
        if champ
        else None,
        overrides={k: Override(score=int(v["score"]), reason=str(v["reason"])) for k, v in (d.get("overrides") or {}).items()},
        dicom_receiver=_plain(d["dicom_receiver"]) if d.get("dicom_receiver") else None,
        calendar=_plain_map(d.get("calendar")),
    )


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (frozen values hold no parser state)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _device(d: dict[str, Any] | None) -> Device | None:
    if not d:
        return None
    return Device(make=str(d["make"]), model=_opt(d, "model", str), software_version=_opt(d, "software_version", str))
