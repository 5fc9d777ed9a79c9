"""Zendesk Support: critical tickets open at the end of a day, and tickets opened that day.

Through the Search API (developer.zendesk.com, Ticketing API, "Search": `GET /api/v2/search.json?
query=...`; "Pagination": at most 100 results a page, `next_page` is the URL of the next page or
null; "Results limit": at most 1,000 results a query, a later page is 422, so a count above 1,000
is an error here rather than a silent undercount). Query syntax as the "Zendesk Support search
reference" gives it: `type:ticket`, property keywords `priority`, `status`, `tags`, `created`,
`solved`; `:` equals, `<` less than, `>` greater than; a date is a day (`created<2026-10-02` is
created before that day). Authentication: API token, `{email}/token:{api_token}` as Basic auth
("Security and authentication"). A 429 carries Retry-After ("Rate limits"); the client waits it out.

Counting follows the playbook: "critical" = priority urgent (configurable) open at the end of the
day = created by then and either still unsolved (`status<solved`) or solved after the day;
tickets opened that day = `created:DAY`. Each location is a tag (configurable, `tags:{location}`).
Only counts are kept; no ticket text, requester or id is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from golive.tasks.gates.collect.base import missing, sample
from golive.tasks.gates.collect.http import PacedClient, SourceError
from golive.tasks.gates.collected import Outcome

SOURCE = "zendesk"
MAX_RESULTS = 1000


class ZendeskCollector:
    source = SOURCE
    metrics: tuple[str, ...] = ("critical_bugs_open", "support_tickets")

    def __init__(self, client: PacedClient, *, location_filter: str = "tags:{location}",
                 critical: str = "priority:urgent") -> None:
        self.client = client
        self.location_filter = location_filter
        self.critical = critical

    def count(self, query: str) -> int:
        """Tickets matching `query`, paging through `next_page` (100 a page), checked against `count`."""
        page: Any = self.client.get_json("/api/v2/search.json", {"query": query, "per_page": 100})
        seen, total, pages = 0, None, 1
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise SourceError(f"{SOURCE}: search answer has no results list")
            total = int(page.get("count", 0))
            if total > MAX_RESULTS:
                raise SourceError(f"{SOURCE}: {total} results for one query, above the Search API's limit of "
                                  f"{MAX_RESULTS}; narrow the location filter")
            seen += sum(1 for r in page["results"] if r.get("result_type", "ticket") == "ticket")
            nxt = page.get("next_page")
            if not nxt:
                break
            pages += 1
            if pages > MAX_RESULTS // 100 + 1:
                raise SourceError(f"{SOURCE}: next_page kept coming past the documented 1,000-result limit")
            page = self.client.get_json(str(nxt))
        if total is not None and seen != total:
            raise SourceError(f"{SOURCE}: pages held {seen} tickets but count says {total} (index changing?)")
        return seen

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        out: list[Outcome] = []
        nxt = day + timedelta(days=1)
        for loc in locations:
            where = self.location_filter.format(location=loc)
            q_open = f"type:ticket {self.critical} {where} created<{nxt} status<solved"
            q_later = f"type:ticket {self.critical} {where} created<{nxt} solved>{day}"
            q_new = f"type:ticket {where} created:{day}"
            try:
                critical = self.count(q_open) + self.count(q_later)
                opened = self.count(q_new)
            except SourceError as exc:
                out += missing(self, day, [loc], str(exc), "GET /api/v2/search.json", failed=True)
                continue
            out.append(sample(loc, "critical_bugs_open", day, critical, SOURCE,
                              f"GET /api/v2/search.json query={q_open!r} + query={q_later!r}"))
            out.append(sample(loc, "support_tickets", day, opened, SOURCE, f"GET /api/v2/search.json query={q_new!r}"))
        return out
