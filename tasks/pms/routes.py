"""Every Open Dental API route the connector calls, as Open Dental's API documentation states it.

One table, read by both sides: the connector's version gates (`opendental.py`) and the simulator's
refusals (`simulator/app.py`). A request for a route that is not in this table is refused by both
(`UnknownRoute`), so the table cannot drift from what the code calls.

Each row was checked against the documentation page named in it (https://www.opendental.com/site/
PAGE, section SECTION, its "Version Added" line). A row marked `verified=False` would say "not
verified against the documentation"; none is at present. The documentation also says
(apiimplementation.html, "URL"): "the version of the customer database must be at least as high as
the version that the method was added", and (same page, "Returned Status Codes", 400 BadRequest)
that a version too low is answered 400 "not high enough".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from golive.tasks.pms.protocol import PmsError, Version

DOCS = "https://www.opendental.com/site/"


class UnknownRoute(PmsError):
    """A route that is not in the table: neither the connector nor the simulator will call/serve it."""


@dataclass(frozen=True)
class Route:
    method: str  # GET | POST | DELETE
    path: str  # below /api/v1; `{Name}` is a record number in the URL
    added: str  # the page's "Version Added"
    page: str  # the documentation page, relative to DOCS
    section: str  # the section heading on that page
    verified: bool = True  # False: "not verified against the documentation"

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def version(self) -> Version:
        return Version.parse(self.added)

    @property
    def source(self) -> str:
        return f"{DOCS}{self.page} ({self.section})" if self.verified else "not verified against the documentation"

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.path)

    def path_for(self, **ids: int) -> str:
        """The concrete path: `/treatplans/{TreatPlanNum}` with TreatPlanNum=115 -> `/treatplans/115`."""
        return re.sub(r"\{(\w+)\}", lambda m: str(int(ids[m.group(1)])), self.path)


@cache
def _compile(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", r"\\d+", re.escape(path)) + "$")


ROUTES: tuple[Route, ...] = (
    # apipreferences.html, "Preferences GET": Version Added 21.1 (PrefName optional).
    Route("GET", "/preferences", "21.1", "apipreferences.html", "Preferences GET"),
    # apipatients.html, "Patients GET Simple": Version Added 21.2; "used instead of GET (multiple) if
    # you need to pass in DateTStamp"; "The serverDateTime is included in the response".
    Route("GET", "/patients/Simple", "21.2", "apipatients.html", "Patients GET Simple"),
    # apipatients.html, "Patients GET (single)": Version Added 21.1.
    Route("GET", "/patients/{PatNum}", "21.1", "apipatients.html", "Patients GET (single)"),
    # apiprocedurelogs.html, "ProcedureLogs GET (multiple)": Version Added 21.1; "Parameters: All Optional".
    Route("GET", "/procedurelogs", "21.1", "apiprocedurelogs.html", "ProcedureLogs GET (multiple)"),
    # apiallergies.html, "Allergies GET": Version Added 21.1; PatNum required.
    Route("GET", "/allergies", "21.1", "apiallergies.html", "Allergies GET"),
    # apimedicationpats.html, "MedicationPats GET": Version Added 21.3.
    Route("GET", "/medicationpats", "21.3", "apimedicationpats.html", "MedicationPats GET"),
    # apipatplans.html, "PatPlans GET": Version Added 22.4.27; parameters all optional.
    Route("GET", "/patplans", "22.4.27", "apipatplans.html", "PatPlans GET"),
    # apiprocedurecodes.html, "ProcedureCodes GET (multiple)": Version Added 22.3.22.
    Route("GET", "/procedurecodes", "22.3.22", "apiprocedurecodes.html", "ProcedureCodes GET (multiple)"),
    # apitreatplans.html, "TreatPlans GET": Version Added 22.4.16; parameters all optional.
    Route("GET", "/treatplans", "22.4.16", "apitreatplans.html", "TreatPlans GET"),
    # apitreatplans.html, "TreatPlans POST (create)": Version Added 23.2.13; creates an inactive plan.
    Route("POST", "/treatplans", "23.2.13", "apitreatplans.html", "TreatPlans POST (create)"),
    # apitreatplans.html, "TreatPlans DELETE": Version Added 24.4.26.
    Route("DELETE", "/treatplans/{TreatPlanNum}", "24.4.26", "apitreatplans.html", "TreatPlans DELETE"),
    # apitreatplanattaches.html, "TreatPlanAttaches GET": Version Added 22.4.16; TreatPlanNum required.
    Route("GET", "/treatplanattaches", "22.4.16", "apitreatplanattaches.html", "TreatPlanAttaches GET"),
    # apitreatplanattaches.html, "TreatPlanAttaches POST": Version Added 23.2.17. The page has no DELETE.
    Route("POST", "/treatplanattaches", "23.2.17", "apitreatplanattaches.html", "TreatPlanAttaches POST"),
    # apidocuments.html, "Documents GET (multiple)": Version Added 21.2; PatNum required; "documents
    # and mounts"; rows carry filePath, not FileName or ImgType.
    Route("GET", "/documents", "21.2", "apidocuments.html", "Documents GET (multiple)"),
    # apidocuments.html, "Documents GET (single)": Version Added 24.2.32; the row has FileName and ImgType.
    Route("GET", "/documents/{DocNum}", "24.2.32", "apidocuments.html", "Documents GET (single)"),
    # apidocuments.html, "Documents POST Upload": Version Added 21.1; PatNum, rawBase64, extension required.
    Route("POST", "/documents/Upload", "21.1", "apidocuments.html", "Documents POST Upload"),
    # apidocuments.html, "Documents DELETE": Version Added 24.2.32.
    Route("DELETE", "/documents/{DocNum}", "24.2.32", "apidocuments.html", "Documents DELETE"),
)

# Parameters documented as added later than their route ("(Added in version X)" on the same page).
# The connector refuses to send one the customer's version lacks (an older server would not apply
# the filter); the simulator ignores it there, as that server would know nothing of it.
PARAMS_ADDED: dict[tuple[str, str], dict[str, str]] = {
    # apiprocedurecodes.html, ProcedureCodes GET (multiple): "DateTStamp: (Added in version 22.4.28)".
    ("GET", "/procedurecodes"): {"DateTStamp": "22.4.28"},
    # apiprocedurelogs.html, ProcedureLogs GET (multiple): ProcStatus and CodeNum "(Added in version 25.2.21)".
    ("GET", "/procedurelogs"): {"ProcStatus": "25.2.21", "CodeNum": "25.2.21"},
}

# What undoes each write the battery makes: it writes only when the undoing route exists on that
# version. TreatPlanAttaches has no DELETE, so an attachment is undone with its plan.
UNDO: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/treatplans"): ("DELETE", "/treatplans/{TreatPlanNum}"),
    ("POST", "/treatplanattaches"): ("DELETE", "/treatplans/{TreatPlanNum}"),
    ("POST", "/documents/Upload"): ("DELETE", "/documents/{DocNum}"),
}

_BY_KEY = {(r.method, r.path): r for r in ROUTES}


def route(method: str, path: str) -> Route:
    """The row for a route template (`route("DELETE", "/treatplans/{TreatPlanNum}")`)."""
    try:
        return _BY_KEY[(method, path)]
    except KeyError:
        raise UnknownRoute(f"{method} {path} is not in the route table (tasks/pms/routes.py)") from None


def match(method: str, path: str) -> Route | None:
    """The row a concrete request path belongs to (`/treatplans/115` -> the DELETE row), or None."""
    return next((r for r in ROUTES if r.method == method and r.pattern.match(path)), None)


def needed(version: Version, *rows: Route) -> Route | None:
    """The row with the highest "Version Added" among those the version is too low for, or None."""
    missing = [r for r in rows if not version.at_least(r.version)]
    return max(missing, key=lambda r: r.version) if missing else None


def with_undo(*rows: Route) -> tuple[Route, ...]:
    """The rows plus the routes that undo their writes."""
    extra = [route(*UNDO[(r.method, r.path)]) for r in rows if (r.method, r.path) in UNDO]
    return (*rows, *extra)


def markdown_table() -> str:
    """The table as `tasks/pms/README.md` shows it (a test keeps the two equal)."""
    lines = ["| method | path | version added | documentation |", "|---|---|---|---|"]
    for r in ROUTES:
        lines.append(f"| {r.method} | `{r.path}` | {r.added} | "
                     f"{f'[{r.page}]({DOCS}{r.page}), {r.section}' if r.verified else r.source} |")
    return "\n".join(lines)
