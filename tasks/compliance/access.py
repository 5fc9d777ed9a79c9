"""The Access Control Matrix against the identity provider's accounts, reported per location.

Findings (each a violation the location must clear):
- `beyond_matrix`: a permission held at a higher level than any of the account's roles allows;
- `no_role`: an active account holding permissions without any role of the matrix;
- `no_mfa`: an active account that has not enrolled in MFA (service accounts excepted);
- `leaver`: an active account of a person HR lists as gone, or a deactivated account still
  holding permissions;
- `shared`: an account used by several people (userType "Shared", a generic name such as
  frontdesk@..., or no given and family name), declared service accounts excepted.
An account whose MFA state the directory does not give is counted as "MFA not verified": it keeps
the location's MFA check from passing but is not called a violation. A location without a single
account in the directory is "not verified".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from golive.tasks.compliance.directory import Account, Directory, Level, Permission
from golive.tasks.foundation.errors import UserInputError

MATRIX_ROLES: tuple[str, ...] = (
    "Provider", "Hygienist", "Front Desk", "Office Manager", "Regional Manager", "Central IT", "CDO",
)  # fmt: skip
ORGANIZATION = ""  # the location key of accounts tied to no location (central staff)
# A mailbox-style name that belongs to a desk, not a person (frontdesk@, reception.east@, ...).
GENERIC_NAME = re.compile(
    r"^(front[._-]?desk|reception|office|shared|staff|team|info|clinic|check[._-]?in|scheduling|billing|nurses?)"
    r"([._-][a-z0-9-]+)?$", re.IGNORECASE)


class FindingKind(str, Enum):
    BEYOND_MATRIX = "beyond_matrix"
    NO_ROLE = "no_role"
    NO_MFA = "no_mfa"
    LEAVER = "leaver"
    SHARED = "shared"

    @property
    def requirement(self) -> str:
        """The HIPAA requirement this finding keeps from complete: MFA, or role-based access."""
        return "mfa" if self is FindingKind.NO_MFA else "rbac"


@dataclass(frozen=True)
class AccessMatrix:
    """The most each role may hold of each permission, and whether the group has approved it."""

    basis: str  # assumption | approved
    rows: Mapping[str, Mapping[Permission, Level]]
    service_accounts: frozenset[str] = frozenset()
    note: str | None = None
    _ceilings: dict[tuple[str, ...], dict[Permission, Level]] = field(default_factory=dict, compare=False, repr=False)

    def allowed(self, roles: Iterable[str], permission: Permission) -> Level:
        return self.ceiling(tuple(roles))[permission]

    def ceiling(self, roles: tuple[str, ...]) -> dict[Permission, Level]:
        """The most `roles` together may hold of each permission (cached: a directory has few role sets)."""
        found = self._ceilings.get(roles)
        if found is None:
            found = {p: max((self.rows[r][p] for r in roles if r in self.rows), key=lambda lvl: lvl.rank,
                            default=Level.NONE) for p in Permission}
            self._ceilings[roles] = found
        return found

    @classmethod
    def from_organization(cls, org: Any) -> AccessMatrix:
        """From the organization file's `access_control` (checked complete by its schema)."""
        ac = getattr(org, "access_control", None)
        if ac is None:
            raise UserInputError("the organization file has no access_control matrix; the access check has nothing "
                                 "to compare the identity provider with")
        rows = {role: {Permission(p): Level(level) for p, level in perms.items()} for role, perms in ac.matrix.items()}
        return cls(ac.basis, rows, frozenset(a.casefold() for a in ac.service_accounts), ac.note)

    def table(self) -> list[dict[str, str]]:
        return [{"role": role, **{p.heading: self.rows[role][p].value for p in Permission}}
                for role in MATRIX_ROLES if role in self.rows]


@dataclass(frozen=True)
class AccessFinding:
    kind: FindingKind
    user_name: str
    location: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "user": self.user_name, "location": self.location or "(organization)",
                "detail": self.detail}


@dataclass(frozen=True)
class LocationAccess:
    location: str  # ORGANIZATION for accounts tied to no location
    accounts: int
    findings: tuple[AccessFinding, ...]
    mfa_unknown: int

    def passed(self, requirement: str) -> bool:
        """`rbac` or `mfa` holds here: accounts exist, and no finding (or unknown MFA) against it."""
        if self.accounts == 0:
            return False
        if requirement == "mfa" and self.mfa_unknown:
            return False
        return not any(f.kind.requirement == requirement for f in self.findings)

    def summary(self) -> dict[str, Any]:
        counts = {k.value: sum(f.kind is k for f in self.findings) for k in FindingKind}
        return {"accounts": self.accounts, "violations": len(self.findings), "mfa_unknown": self.mfa_unknown,
                **counts}


@dataclass(frozen=True)
class AccessReport:
    source: str
    basis: str
    locations: tuple[LocationAccess, ...]
    not_verified: tuple[str, ...]  # organization locations without a single account in the directory
    accounts: int
    findings: tuple[AccessFinding, ...] = field(default=())  # each (kind, account) once

    @property
    def violations(self) -> int:
        return len(self.findings)

    def counts(self) -> dict[str, int]:
        return {k.value: sum(f.kind is k for f in self.findings) for k in FindingKind}

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "matrix_basis": self.basis, "accounts": self.accounts,
                "violations": self.violations, "counts": self.counts(),
                "mfa_unknown": sum(loc.mfa_unknown for loc in self.locations),
                "not_verified": list(self.not_verified),
                "locations": [{"location": loc.location or "(organization)", **loc.summary(),
                               "rbac": loc.passed("rbac"), "mfa": loc.passed("mfa")} for loc in self.locations],
                "findings": [f.to_dict() for f in self.findings]}


def check_account(account: Account, matrix: AccessMatrix, *,
                  leavers: Collection[str] = frozenset()) -> list[tuple[FindingKind, str]]:
    """Every finding of one account, as (kind, detail); `leavers` are casefolded userNames or employee numbers."""
    out: list[tuple[FindingKind, str]] = []
    held = [(p, lvl) for p, lvl in account.grants if lvl is not Level.NONE]
    if not account.active:
        if held:
            out.append((FindingKind.LEAVER, "deactivated account still holds " + ", ".join(
                f"{p.value} ({lvl.value})" for p, lvl in held)))
        return out
    ids = {account.user_name.casefold(), *([account.employee_number.casefold()] if account.employee_number else [])}
    if any(i in leavers for i in ids):
        out.append((FindingKind.LEAVER, "HR lists this person as gone, but the account is active"))
    service = account.user_name.casefold() in matrix.service_accounts
    roles = [r for r in account.roles if r in matrix.rows]
    if not roles and held:
        unknown = [r for r in account.roles if r not in matrix.rows]
        why = f"roles {', '.join(unknown)} are not in the matrix" if unknown else "no role"
        out.append((FindingKind.NO_ROLE, f"holds {', '.join(p.value for p, _ in held)} with {why}"))
    elif roles:
        ceiling = matrix.ceiling(tuple(roles))
        for permission, have in account.held().items():
            may = ceiling[permission]
            if have.rank > may.rank:
                out.append((FindingKind.BEYOND_MATRIX,
                            f"{permission.value}: holds {have.value}, {' / '.join(roles)} may hold {may.value}"))
    if not service:
        if account.mfa is False:
            out.append((FindingKind.NO_MFA, "not enrolled in MFA"))
        local = account.user_name.split("@", 1)[0]
        if (account.user_type or "").casefold() == "shared":
            out.append((FindingKind.SHARED, "userType is Shared"))
        elif GENERIC_NAME.match(local):
            out.append((FindingKind.SHARED, f"generic account name {local!r}"))
        elif not account.personal_name:
            out.append((FindingKind.SHARED, "no given and family name: not tied to one person"))
    return out


def check_access(directory: Directory, matrix: AccessMatrix, *, locations: Sequence[str],
                 leavers: Collection[str] = ()) -> AccessReport:
    """Findings per location (and for accounts tied to none), for the organization's `locations`."""
    gone = {x.casefold() for x in leavers}
    per_location: dict[str, list[AccessFinding]] = {loc: [] for loc in (ORGANIZATION, *locations)}
    accounts: dict[str, int] = dict.fromkeys(per_location, 0)
    unknown_mfa: dict[str, int] = dict.fromkeys(per_location, 0)
    unique: dict[tuple[FindingKind, str], AccessFinding] = {}
    for account in directory.accounts:
        found = check_account(account, matrix, leavers=gone)
        service = account.user_name.casefold() in matrix.service_accounts
        for where in account.locations or (ORGANIZATION,):
            if where not in per_location:
                continue
            accounts[where] += 1
            if account.active and account.mfa is None and not service:
                unknown_mfa[where] += 1
            for kind, detail in found:
                finding = AccessFinding(kind, account.user_name, where, detail)
                per_location[where].append(finding)
                unique.setdefault((kind, account.user_name), finding)
    rows = tuple(LocationAccess(loc, accounts[loc], tuple(per_location[loc]), unknown_mfa[loc])
                 for loc in per_location if loc != ORGANIZATION or accounts[loc])
    return AccessReport(directory.source, matrix.basis, rows,
                        tuple(loc for loc in locations if accounts[loc] == 0), len(directory.accounts),
                        tuple(unique.values()))
