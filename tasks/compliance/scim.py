"""Read the identity provider's users and groups over SCIM 2.0 (RFC 7644), all pages.

Section references are to RFC 7644: list responses carry the schema
`urn:ietf:params:scim:api:messages:2.0:ListResponse` with `totalResults`, `startIndex`,
`itemsPerPage` and `Resources` (3.4.2); pages are asked for with the 1-based `startIndex` and
`count`, and a provider may return fewer than `count` (3.4.2.4); errors carry the schema
`urn:ietf:params:scim:api:messages:2.0:Error` with `status` and `detail` (3.12); the client
authenticates with an OAuth bearer token (2). The token is a secret reference, resolved at call time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from golive.tasks.compliance.directory import Directory, Vocabulary, from_scim
from golive.tasks.compliance.endpoint import base_url
from golive.tasks.foundation.errors import ConnectorError
from golive.tasks.foundation.secrets import Secret

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
MEDIA_TYPE = "application/scim+json"


class ScimError(ConnectorError):
    """The SCIM service provider refused the request or answered something that is not SCIM."""


def _error(response: httpx.Response, what: str) -> ScimError:
    detail = ""
    try:
        body = response.json()
        if isinstance(body, Mapping) and ERROR in (body.get("schemas") or ()):
            detail = f": {body.get('detail') or body.get('scimType') or ''}".rstrip(": ")
    except ValueError:
        pass
    if response.status_code in (401, 403):
        return ScimError(f"{what}: the SCIM token was refused ({response.status_code}){detail}")
    return ScimError(f"{what}: HTTP {response.status_code}{detail}")


def fetch_all(client: httpx.Client, resource: str, *, page_size: int = 100) -> list[dict[str, Any]]:
    """Every resource of `/Users` or `/Groups`, page by page (RFC 7644 section 3.4.2.4)."""
    collected: list[dict[str, Any]] = []
    start, total = 1, None
    while total is None or len(collected) < total:
        response = client.get(f"/{resource}", params={"startIndex": start, "count": page_size})
        if response.status_code != 200:
            raise _error(response, f"GET /{resource}")
        try:
            body = response.json()
        except ValueError:
            raise ScimError(f"GET /{resource}: the answer is not JSON") from None
        if not isinstance(body, Mapping) or LIST_RESPONSE not in (body.get("schemas") or ()):
            raise ScimError(f"GET /{resource}: not a SCIM ListResponse")
        page = body.get("Resources") or []
        total = int(body.get("totalResults", 0))
        if not isinstance(page, list):
            raise ScimError(f"GET /{resource}: Resources is not a list")
        if not page:
            if len(collected) < total:
                raise ScimError(f"GET /{resource}: {total} resources announced, {len(collected)} delivered")
            break
        collected.extend(r for r in page if isinstance(r, dict))
        start += len(page)
    return collected


def read_directory(url_given: str, token: Secret, vocabulary: Vocabulary, *, page_size: int = 100,
                   timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> Directory:
    """Users and groups from a SCIM service provider, as a `Directory`."""
    url = base_url(url_given, "SCIM base URL")
    headers = {"Authorization": f"Bearer {token.reveal()}", "Accept": MEDIA_TYPE}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=timeout_s, transport=transport) as client:
            users = fetch_all(client, "Users", page_size=page_size)
            groups = fetch_all(client, "Groups", page_size=page_size)
    except httpx.HTTPError as exc:
        raise ScimError(f"SCIM provider {url} unreachable: {type(exc).__name__}") from None
    return from_scim(users, groups, vocabulary, source=f"SCIM {url}")
