"""The identity provider's accounts as golive reads them: from SCIM 2.0 resources or a CSV export.

What an account says, and where it comes from in SCIM (RFC 7643):
- role(s): the User's `roles[].value` (section 4.1.2), plus any group whose `displayName` is a role
  of the Access Control Matrix ("Provider", "Front Desk", ...);
- location(s): groups whose `displayName` is a location's id or name (section 4.2 `members`);
- permissions: the User's `entitlements[].value` (section 4.1.2), written `<permission>` for full
  or `<permission>:limited`, e.g. `edit_plan`, `view_analysis:limited`; other entitlements (other
  applications') are ignored;
- left the group: `active: false` (section 4.1.1) or an HR leavers list;
- shared accounts: `userType` "Shared", a generic userName, or no given and family name;
- MFA: SCIM has no standard attribute for it. golive reads `mfaEnrolled` from its own extension
  `urn:golive:scim:schemas:extension:security:1.0:User` (the identity provider's MFA registration
  report mapped there); without it, MFA is "not verified" for that account, never a pass.

The CSV export has one row per account: `userName, displayName, active, roles, locations,
entitlements, mfa, userType, employeeNumber, givenName, familyName`; multi-valued cells separated by
`;`. Staff accounts only: no patient data is read or kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from golive.tasks.foundation.errors import RunbookInvalid, UserInputError
from golive.tasks.foundation.issues import ValidationIssue

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"  # RFC 7643 section 4.3
MFA_EXTENSION = "urn:golive:scim:schemas:extension:security:1.0:User"
CSV_COLUMNS = ("userName", "displayName", "active", "roles", "locations", "entitlements", "mfa", "userType",
               "employeeNumber", "givenName", "familyName")
CSV_REQUIRED = ("userName", "active", "roles", "locations", "entitlements")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


class DirectoryInvalid(RunbookInvalid):
    """A directory export (CSV) or SCIM response could not be read; issues carry positions."""


class Permission(str, Enum):
    """The Access Control Matrix's six permissions (playbook section 5)."""

    VIEW_IMAGING = "view_imaging"
    VIEW_ANALYSIS = "view_analysis"
    CREATE_PLAN = "create_plan"
    EDIT_PLAN = "edit_plan"
    ADMIN = "admin"
    BILLING = "billing"

    @property
    def heading(self) -> str:
        return self.value.replace("_", " ").title()


class Level(str, Enum):
    NONE = "none"
    LIMITED = "limited"
    FULL = "full"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.NONE: 0, Level.LIMITED: 1, Level.FULL: 2}


@dataclass(frozen=True)
class Account:
    user_name: str
    display_name: str
    active: bool
    roles: tuple[str, ...]
    locations: tuple[str, ...]
    grants: tuple[tuple[Permission, Level], ...]
    mfa: bool | None  # None: the directory does not say
    user_type: str | None = None
    employee_number: str | None = None
    personal_name: bool = True  # has a given and a family name
    source: str = ""  # where it was read: "scim:<id>" or "<file>:<line>"

    def level(self, permission: Permission) -> Level:
        return self.held().get(permission, Level.NONE)

    def held(self) -> dict[Permission, Level]:
        """Each permission at the highest level granted (grants may repeat a permission)."""
        out: dict[Permission, Level] = {}
        for p, lvl in self.grants:
            if _RANK[lvl] > _RANK[out.get(p, Level.NONE)]:
                out[p] = lvl
        return out


@dataclass(frozen=True)
class Directory:
    accounts: tuple[Account, ...]
    source: str


@lru_cache(maxsize=256)  # a directory repeats a handful of values thousands of times
def parse_grant(value: str) -> tuple[Permission, Level] | None:
    """`edit_plan` → (EDIT_PLAN, FULL); `view_analysis:limited` → (VIEW_ANALYSIS, LIMITED); else None."""
    name, _, level = value.strip().partition(":")
    try:
        permission = Permission(name.strip().lower())
    except ValueError:
        return None
    try:
        return permission, Level(level.strip().lower()) if level else Level.FULL
    except ValueError:
        return None


class Vocabulary:
    """Group display names → matrix roles and location ids (case-insensitive)."""

    def __init__(self, roles: Iterable[str], locations: Iterable[tuple[str, str]]) -> None:
        self.roles = {r.casefold(): r for r in roles}
        self.locations: dict[str, str] = {}
        for loc_id, name in locations:
            self.locations[loc_id.casefold()] = loc_id
            self.locations[name.casefold()] = loc_id

    def role(self, text: str) -> str | None:
        return self.roles.get(text.strip().casefold())

    def location(self, text: str) -> str | None:
        return self.locations.get(text.strip().casefold())


def from_scim(users: Sequence[Mapping[str, Any]], groups: Sequence[Mapping[str, Any]], vocabulary: Vocabulary,
              source: str) -> Directory:
    """Accounts from SCIM User and Group resources (RFC 7643 sections 4.1 and 4.2)."""
    member_of: dict[str, list[str]] = {}
    for group in groups:
        display = str(group.get("displayName") or "")
        for member in group.get("members") or ():
            if isinstance(member, Mapping) and member.get("value") is not None:
                member_of.setdefault(str(member["value"]), []).append(display)
    accounts = []
    for user in users:
        uid = str(user.get("id", ""))
        group_names = list(member_of.get(uid, []))
        group_names += [str(g.get("display")) for g in user.get("groups") or () if isinstance(g, Mapping) and g.get("display")]
        roles = [str(r.get("value")) for r in user.get("roles") or () if isinstance(r, Mapping) and r.get("value")]
        roles += [r for r in (vocabulary.role(g) for g in group_names) if r]
        locations = [loc for loc in (vocabulary.location(g) for g in group_names) if loc]
        grants = [g for g in (_scim_grant(str(e.get("value", ""))) for e in user.get("entitlements") or ()
                              if isinstance(e, Mapping)) if g]
        name, enterprise, security = (_mapping(user, k) for k in ("name", ENTERPRISE, MFA_EXTENSION))
        mfa = security.get("mfaEnrolled")
        accounts.append(Account(
            user_name=str(user.get("userName", "")), display_name=str(user.get("displayName") or name.get("formatted") or ""),
            active=user.get("active") is not False, roles=_unique(_canonical_roles(roles, vocabulary)),
            locations=_unique(locations), grants=tuple(grants), mfa=mfa if isinstance(mfa, bool) else None,
            user_type=str(user["userType"]) if user.get("userType") else None,
            employee_number=str(enterprise["employeeNumber"]) if enterprise.get("employeeNumber") else None,
            personal_name=bool(name.get("givenName")) and bool(name.get("familyName")), source=f"scim:{uid}",
        ))
    return Directory(tuple(accounts), source)


def _mapping(resource: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = resource.get(key)
    return value if isinstance(value, Mapping) else {}


def _scim_grant(value: str) -> tuple[Permission, Level] | None:
    """Like `parse_grant`, but a known permission with a level we cannot read counts as full: an
    entitlement we misread must be reported, not dropped. Other applications' entitlements are ignored."""
    grant = parse_grant(value)
    if grant is None and value.partition(":")[0].strip().lower() in {p.value for p in Permission}:
        return Permission(value.partition(":")[0].strip().lower()), Level.FULL
    return grant


def _canonical_roles(roles: Iterable[str], vocabulary: Vocabulary) -> list[str]:
    """Matrix role names in their canonical spelling; anything else kept as written (an unknown role)."""
    return [vocabulary.role(r) or r for r in roles]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _flag(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value == "":
        return None
    raise ValueError(text)


def read_csv(path: str | Path, vocabulary: Vocabulary) -> Directory:
    """Accounts from a CSV export; every problem of the file at once (`DirectoryInvalid`)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{source}: no such directory export") from None
    except UnicodeDecodeError as exc:
        raise DirectoryInvalid([ValidationIssue(str(source), 1, 1, f"not UTF-8 text ({exc.reason})")]) from None
    return parse_csv(text, str(source), vocabulary)


def parse_csv(text: str, name: str, vocabulary: Vocabulary) -> Directory:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    issues: list[ValidationIssue] = []
    if not header:
        raise DirectoryInvalid([ValidationIssue(name, 1, 1, "file is empty; expected a header: " + ",".join(CSV_COLUMNS))])
    columns = [h.strip() for h in header]
    for i, col in enumerate(columns):
        if col not in CSV_COLUMNS or columns.index(col) != i:
            issues.append(ValidationIssue(name, 1, i + 1, f"unknown or repeated column {col!r}",
                                          hint="columns: " + ",".join(CSV_COLUMNS)))
    issues += [ValidationIssue(name, 1, 1, f"missing required column {col!r}") for col in CSV_REQUIRED
               if col not in columns]
    if issues:
        raise DirectoryInvalid(issues)
    at = {col: columns.index(col) for col in columns}
    accounts: list[Account] = []
    seen: dict[str, int] = {}
    line = 1

    def bad(col: str, message: str) -> None:
        issues.append(ValidationIssue(name, line, at.get(col, 0) + 1, message))

    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        row = dict(zip(columns, (cell.strip() for cell in record), strict=False))
        cell = row.get  # a short row's missing cells read as None; `or ""` below
        user = cell("userName") or ""
        if not user:
            bad("userName", "userName is empty")
        elif user.casefold() in seen:
            bad("userName", f"userName {user!r} repeats line {seen[user.casefold()]}")
        seen.setdefault(user.casefold(), line)
        flags: dict[str, bool | None] = {}
        for col in ("active", "mfa"):
            try:
                flags[col] = _flag(cell(col) or "")
            except ValueError:
                bad(col, f"{col} must be true or false, not {cell(col)!r}")
        if "active" in flags and flags["active"] is None:
            bad("active", "active is empty (true or false)")
        locations = []
        for loc in _split(cell("locations") or ""):
            found = vocabulary.location(loc)
            if found is None:
                bad("locations", f"unknown location {loc!r}")
            else:
                locations.append(found)
        grants = []
        for value in _split(cell("entitlements") or ""):
            grant = parse_grant(value)
            if grant is None:
                bad("entitlements", f"{value!r} is not a permission (write e.g. edit_plan or view_analysis:limited)")
            else:
                grants.append(grant)
        accounts.append(Account(
            user_name=user, display_name=cell("displayName") or "", active=bool(flags.get("active", True)),
            roles=_unique(_canonical_roles(_split(cell("roles") or ""), vocabulary)), locations=_unique(locations),
            grants=tuple(grants), mfa=flags.get("mfa"), user_type=cell("userType") or None,
            employee_number=cell("employeeNumber") or None,
            personal_name=bool(cell("givenName")) and bool(cell("familyName")) if "givenName" in at else True,
            source=f"{name}:{line}",
        ))
    if issues:
        raise DirectoryInvalid(issues)
    return Directory(tuple(accounts), name)
