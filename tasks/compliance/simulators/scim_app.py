"""A SCIM 2.0 service provider SIMULATOR (FastAPI): read-only `/Users` and `/Groups`.

Follows RFC 7644 where golive's client depends on it: bearer-token authentication (section 2), a
401 with a SCIM error body otherwise (3.12); `GET /Users` and `GET /Groups` as ListResponse with
`totalResults`, `startIndex`, `itemsPerPage`, `Resources` (3.4.2); 1-based `startIndex` (values
below 1 read as 1) and `count` (negative reads as 0), never more than `count` nor more than the
provider's own page limit (3.4.2.4); `GET /Users/{id}` (3.4.1); `/ServiceProviderConfig` (4).
Users carry the read-only `groups` attribute computed from group membership (RFC 7643 4.1.2).
Responses are `application/scim+json` (8.1). Filtering and sorting are not offered and the
configuration says so. Every response is marked `X-Golive-Simulator: scim`.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from golive.tasks.compliance.scim import ERROR, LIST_RESPONSE, MEDIA_TYPE
from golive.tasks.compliance.simulators import SIMULATOR_HEADER

MAX_PAGE = 200  # the provider's own page limit (a provider MAY return fewer than asked)


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE,
                        headers={SIMULATOR_HEADER: "scim", **dict(headers or {})})


def _error(status: int, detail: str, scim_type: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    extra = {"WWW-Authenticate": 'Bearer realm="golive-scim-simulator"'} if status == 401 else None
    return _json(body, status, extra)


def _int(text: str | None, default: int) -> int | None:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        return None


def create_app(resources: Mapping[str, list[dict[str, Any]]], token: str) -> FastAPI:
    app = FastAPI(title="SCIM 2.0 SIMULATOR (golive tests; not an identity provider)")
    users = [copy.deepcopy(u) for u in resources.get("Users", [])]
    groups = [copy.deepcopy(g) for g in resources.get("Groups", [])]
    member_of: dict[str, list[dict[str, str]]] = {}
    for g in groups:
        for m in g.get("members", []):
            member_of.setdefault(m["value"], []).append({"value": g["id"], "display": g["displayName"],
                                                         "$ref": f"/Groups/{g['id']}", "type": "direct"})
    for u in users:
        u["groups"] = member_of.get(u["id"], [])
    store = {"Users": users, "Groups": groups}
    counters = {"requests": 0}

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        counters["requests"] += 1
        if request.url.path.startswith("/scim/v2/"):
            given = request.headers.get("authorization", "")
            if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())):
                return _error(401, "Authorization failure: a valid bearer token is required.")
        return await call_next(request)

    @app.get("/")
    def root() -> JSONResponse:
        return _json({"simulator": "SCIM 2.0 service provider", "note": "SIMULATOR: fake staff accounts",
                      "users": len(users), "groups": len(groups), "requests": counters["requests"]})

    @app.get("/scim/v2/ServiceProviderConfig")
    def config() -> JSONResponse:
        return _json({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                      "patch": {"supported": False}, "bulk": {"supported": False, "maxOperations": 0,
                                                              "maxPayloadSize": 0},
                      "filter": {"supported": False, "maxResults": MAX_PAGE},
                      "changePassword": {"supported": False}, "sort": {"supported": False},
                      "etag": {"supported": False},
                      "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                                 "description": "Bearer token (RFC 6750)"}]})

    def listing(kind: str, request: Request) -> JSONResponse:
        q = request.query_params
        if "filter" in q:
            return _error(400, "Filtering is not supported by this provider.", "invalidFilter")
        start, count = _int(q.get("startIndex"), 1), _int(q.get("count"), MAX_PAGE)
        if start is None or count is None:
            return _error(400, "startIndex and count must be integers.", "invalidValue")
        start, count = max(start, 1), min(max(count, 0), MAX_PAGE)
        items = store[kind]
        page = items[start - 1:start - 1 + count]
        return _json({"schemas": [LIST_RESPONSE], "totalResults": len(items), "startIndex": start,
                      "itemsPerPage": len(page), "Resources": page})

    @app.get("/scim/v2/Users")
    def list_users(request: Request) -> JSONResponse:
        return listing("Users", request)

    @app.get("/scim/v2/Groups")
    def list_groups(request: Request) -> JSONResponse:
        return listing("Groups", request)

    def one(kind: str, rid: str) -> JSONResponse:
        found = next((r for r in store[kind] if r["id"] == rid), None)
        return _json(found) if found is not None else _error(404, f"Resource {rid} not found.")

    @app.get("/scim/v2/Users/{rid}")
    def get_user(rid: str) -> JSONResponse:
        return one("Users", rid)

    @app.get("/scim/v2/Groups/{rid}")
    def get_group(rid: str) -> JSONResponse:
        return one("Groups", rid)

    return app
