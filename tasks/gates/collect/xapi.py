"""Training completion from an xAPI Learning Record Store.

xAPI 1.0.3, Part Three (Data Processing, Validation, and Security): "Statement Resource", GET
Statements with `verb`, `activity`, `since` ("stored since the specified Timestamp (exclusive)"),
`until` ("stored at or before the specified Timestamp"), `limit`, `ascending`; the answer is a
StatementResult `{"statements": [...], "more": IRL}`, `more` a relative IRL of the next page or ""
("StatementResult"); every request carries `X-Experience-API-Version` ("Versioning"); Basic auth.

Completion at the end of day D for a location = distinct learners with a `completed` statement for
the course activity stored between the programme start and the end of D, over the staff to train
there (the organization gives that count). The location comes from a context extension
(configurable IRI). Learners are counted by a digest of their identifier, in memory only.

Training hours on day D for a location = the `result.duration` (Part Two, "Result": an ISO 8601
duration) of the `completed` statements stored on D there, summed: the time each completed attempt
took. A completed statement without a duration adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from golive.tasks.gates.collect.base import missing, rate, sample
from golive.tasks.gates.collect.http import PacedClient, SourceError
from golive.tasks.gates.collected import Outcome

SOURCE = "xapi"
VERSION = "1.0.3"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
LOCATION_EXT = "https://golive.dev/xapi/extensions/location"
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration_s(text: str) -> float:
    """Seconds of an xAPI `result.duration` (ISO 8601, days to seconds as xAPI uses them)."""
    m = _DURATION.match(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        raise SourceError(f"{SOURCE}: a statement's result.duration is not an ISO 8601 duration")
    d, h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + sec


def _learner(actor: Mapping[str, Any]) -> str:
    ident = {k: actor.get(k) for k in ("mbox", "mbox_sha1sum", "openid", "account") if actor.get(k)}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


class XapiCollector:
    source = SOURCE
    metrics: tuple[str, ...] = ("training_completion_pct", "training_hours")

    def __init__(self, client: PacedClient, *, activity: str, staff: Mapping[str, int], since: date,
                 location_extension: str = LOCATION_EXT, page_size: int = 100) -> None:
        self.client = client
        self.activity = activity
        self.staff = dict(staff)
        self.since = since
        self.location_extension = location_extension
        self.page_size = page_size

    def statements(self, until: str) -> list[dict[str, Any]]:
        params = {"verb": COMPLETED, "activity": self.activity, "since": f"{self.since.isoformat()}T00:00:00Z",
                  "until": until, "limit": self.page_size, "ascending": "true"}
        page = self.client.get_json("/statements", params)
        out: list[dict[str, Any]] = []
        followed: set[str] = set()
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("statements"), list):
                raise SourceError(f"{SOURCE}: the LRS answer is not a StatementResult")
            out += page["statements"]
            more = page.get("more") or ""
            if not more:
                return out
            if str(more) in followed:
                raise SourceError(f"{SOURCE}: the LRS gave the same `more` link twice")
            followed.add(str(more))
            page = self.client.get_json(self._more(str(more)))

    def _more(self, more: str) -> str:
        """`more` is relative to the LRS host (xAPI: "relative IRL"): keep the base's scheme and host."""
        if "://" in more:
            return more
        root = self.client.base_url.split("://", 1)
        host = root[1].split("/", 1)[0]
        return f"{root[0]}://{host}{more if more.startswith('/') else '/' + more}"

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        end = datetime.combine(day + timedelta(days=1), time(0)) - timedelta(milliseconds=1)
        until = end.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        query = f"GET /statements?verb=completed&activity={self.activity}&since={self.since}&until={until}"
        rows = self.statements(until)
        learners: dict[str, set[str]] = {}
        spent: dict[str, float] = {}
        for st in rows:
            if (st.get("verb") or {}).get("id") != COMPLETED:
                continue
            ext = ((st.get("context") or {}).get("extensions") or {}).get(self.location_extension)
            if ext is None:
                continue
            learners.setdefault(str(ext), set()).add(_learner(st.get("actor") or {}))
            took = (st.get("result") or {}).get("duration")
            if took and str(st.get("stored", ""))[:10] == day.isoformat():
                spent[str(ext)] = spent.get(str(ext), 0.0) + duration_s(str(took))
        out: list[Outcome] = []
        for loc in locations:
            if loc not in self.staff:
                out += missing(self, day, [loc], f"no staff-to-train count for {loc} in the xapi source's staff")
                continue
            done = min(len(learners.get(loc, ())), self.staff[loc])
            out.append(rate(loc, "training_completion_pct", day, done, self.staff[loc], SOURCE, query,
                            "no staff to train"))
            out.append(sample(loc, "training_hours", day, round(spent.get(loc, 0.0) / 3600, 4), SOURCE,
                              f"{query}: result.duration of those stored {day}"))
        return out
