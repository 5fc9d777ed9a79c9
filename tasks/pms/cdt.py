"""CDT code FORMS and RANGES only. CDT descriptions are ADA-licensed: none are shipped here; the
practice's own code list comes from its PMS (or a customer-supplied file).

`PLATFORM_CODES` are the codes the platform's treatment plans may emit (implant, ortho, restorative,
endodontic, periodontal, surgical and imaging work), as bare codes.
"""

from __future__ import annotations

import re

CDT_FORM = re.compile(r"^D\d{4}$")

# Category ranges of the CDT (inclusive), named by the clinical area, not by ADA wording.
RANGES: tuple[tuple[str, int, int], ...] = (
    ("diagnostic", 100, 999),
    ("preventive", 1000, 1999),
    ("restorative", 2000, 2999),
    ("endodontics", 3000, 3999),
    ("periodontics", 4000, 4999),
    ("prosthodontics-removable", 5000, 5899),
    ("maxillofacial-prosthetics", 5900, 5999),
    ("implant-services", 6000, 6199),
    ("prosthodontics-fixed", 6200, 6999),
    ("oral-surgery", 7000, 7999),
    ("orthodontics", 8000, 8999),
    ("adjunctive", 9000, 9999),
)

PLATFORM_CODES: tuple[str, ...] = (
    "D0367", "D0364", "D0330", "D2740", "D2950", "D3330", "D4341", "D6010", "D6056", "D6057", "D6058",
    "D6065", "D6104", "D7140", "D7210", "D7953", "D8080", "D8090",
)


def category(code: str) -> str | None:
    """The CDT range a code falls in, or None when it has not the form `D####` or lies in no range."""
    if not CDT_FORM.match(code):
        return None
    n = int(code[1:])
    return next((name for name, lo, hi in RANGES if lo <= n <= hi), None)
