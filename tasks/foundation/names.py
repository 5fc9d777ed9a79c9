"""Locations by their display names in text people read (the ids stay for machines).

In foundation so every step-kind area (reports, notify, program) and the engine's expression
filters (`| place`, `| places`) share one rule without importing each other."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


def location_name(org: Any, location_id: str) -> str:
    if org is None:
        return location_id.replace("-", " ").title()
    for loc in getattr(org, "locations", ()):
        if loc.id == location_id:
            return str(loc.name)
    return location_id.replace("-", " ").title()


def location_names(org: Any, ids: Any) -> list[str]:
    return [location_name(org, str(i)) for i in (ids or ())]


def named(org: Any, text: str) -> str:
    """`text` with every organization location id shown as the location's name: for text people
    read (messages) composed where the organization was not at hand (a reminder, a guard's
    question). An id inside a path or a longer token (`out/k/riverside-ortho/x.pdf`) is kept."""
    if org is None or not text:
        return text
    names = {loc.id: str(loc.name) for loc in getattr(org, "locations", ())}
    if not names:
        return text
    pattern = _ids_pattern(tuple(sorted(names, key=len, reverse=True)))
    return pattern.sub(lambda m: names[m.group(0)], text)


@lru_cache(maxsize=16)
def _ids_pattern(ids: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w/.@:-])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w/@-]|\.\w)")
