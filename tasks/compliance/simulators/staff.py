"""A synthetic staff directory as SCIM 2.0 resources (invented people; no patient data), for the
example group, the tests and the benchmark. Deterministic for a seed.

Each location gets a provider, a hygienist, a front desk and an office manager; each region a
regional manager; the organization central IT, a CDO and a service account. Every account's
entitlements are exactly what the Access Control Matrix allows its role, so a directory made here
has no finding until `violations` plants some.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from golive.tasks.compliance.directory import ENTERPRISE, MFA_EXTENSION, Level

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LOCATION_ROLES = ("Provider", "Hygienist", "Front Desk", "Office Manager")
_GIVEN = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jonah", "Kira", "Liam", "Maya",
          "Noor", "Owen", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wen", "Yara", "Zoe")
_FAMILY = ("Abbott", "Brennan", "Castillo", "Dunn", "Ekwueme", "Fischer", "Garza", "Holm", "Ibarra", "Jensen",
           "Kowalski", "Lind", "Moreau", "Nakamura", "Okoro", "Petrov", "Quist", "Ruiz", "Sato", "Tran", "Ueda",
           "Varga", "Weber", "Xu", "Young")


@dataclass(frozen=True)
class Planted:
    """A violation planted on purpose: the first `role` at `location` gets `grant` (e.g. "edit_plan")
    or loses MFA."""

    location: str
    role: str
    grant: str | None = None
    no_mfa: bool = False


def entitlements(matrix: Mapping[str, Mapping[str, str]], role: str) -> list[str]:
    """What the matrix allows `role`, as SCIM entitlement values (`edit_plan`, `view_analysis:limited`)."""
    out = []
    for permission, level in matrix[role].items():
        if level == Level.FULL.value:
            out.append(permission)
        elif level == Level.LIMITED.value:
            out.append(f"{permission}:limited")
    return out


def directory(locations: Sequence[tuple[str, str]], regions: Iterable[str], matrix: Mapping[str, Mapping[str, str]],
              *, staff_per_location: int = 4, seed: int = 1, planted: Sequence[Planted] = (),
              domain: str = "acme-dental.example") -> dict[str, list[dict[str, Any]]]:
    """`{"Users": [...], "Groups": [...]}`: SCIM resources for `locations` [(id, name)] and `regions`."""
    rng = random.Random(seed)
    users: list[dict[str, Any]] = []
    members: dict[str, list[str]] = {}

    first: dict[tuple[str, str], dict[str, Any]] = {}

    def person(role: str, groups: list[str], tag: str) -> None:
        n = len(users) + 1
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        user_name = f"{given}.{family}.{n}@{domain}".lower()
        uid = f"u{n:05d}"
        users.append({
            "schemas": [USER, ENTERPRISE, MFA_EXTENSION], "id": uid, "userName": user_name,
            "name": {"givenName": given, "familyName": family, "formatted": f"{given} {family}"},
            "displayName": f"{given} {family}", "active": True, "userType": "Employee",
            "roles": [{"value": role, "primary": True}],
            "entitlements": [{"value": v} for v in entitlements(matrix, role)],
            ENTERPRISE: {"employeeNumber": f"E{n:05d}", "department": tag},
            MFA_EXTENSION: {"mfaEnrolled": True},
            "meta": {"resourceType": "User", "location": f"/Users/{uid}"},
        })
        for g in groups:
            members.setdefault(g, []).append(uid)
        first.setdefault((tag, role), users[-1])

    for loc_id, loc_name in locations:
        for i in range(staff_per_location):
            person(LOCATION_ROLES[i % len(LOCATION_ROLES)], [loc_name], loc_id)
    for region in regions:
        person("Regional Manager", [], region)
    person("Central IT", [], "central-it")
    person("Central IT", [], "central-it")
    person("CDO", [], "clinical")
    service_id = f"u{len(users) + 1:05d}"
    users.append({"schemas": [USER], "id": service_id, "userName": "svc-platform-integration", "active": True,
                  "userType": "Service", "displayName": "Platform integration (service account)",
                  "meta": {"resourceType": "User", "location": f"/Users/{service_id}"}})
    for plant in planted:
        user = first[(plant.location, plant.role)]
        if plant.grant:
            user["entitlements"].append({"value": plant.grant})
        if plant.no_mfa:
            user[MFA_EXTENSION]["mfaEnrolled"] = False
    groups = [{"schemas": [GROUP], "id": f"g{i + 1:04d}", "displayName": name,
               "members": [{"value": uid, "$ref": f"/Users/{uid}", "type": "User"} for uid in uids],
               "meta": {"resourceType": "Group", "location": f"/Groups/g{i + 1:04d}"}}
              for i, (name, uids) in enumerate(sorted(members.items()))]
    return {"Users": users, "Groups": groups}


def to_csv_rows(resources: Mapping[str, list[dict[str, Any]]], location_ids: Mapping[str, str]) -> list[dict[str, str]]:
    """The same accounts as rows of golive's CSV export format (locations by id)."""
    member_of: dict[str, list[str]] = {}
    for g in resources["Groups"]:
        for m in g.get("members", []):
            member_of.setdefault(m["value"], []).append(location_ids.get(g["displayName"], g["displayName"]))
    rows = []
    for u in resources["Users"]:
        mfa = (u.get(MFA_EXTENSION) or {}).get("mfaEnrolled")
        rows.append({
            "userName": u["userName"], "displayName": u.get("displayName", ""),
            "active": "true" if u.get("active", True) else "false",
            "roles": ";".join(r["value"] for r in u.get("roles", [])),
            "locations": ";".join(member_of.get(u["id"], [])),
            "entitlements": ";".join(e["value"] for e in u.get("entitlements", [])),
            "mfa": "" if mfa is None else str(mfa).lower(), "userType": u.get("userType", ""),
            "employeeNumber": (u.get(ENTERPRISE) or {}).get("employeeNumber", ""),
            "givenName": (u.get("name") or {}).get("givenName", ""),
            "familyName": (u.get("name") or {}).get("familyName", ""),
        })
    return rows
