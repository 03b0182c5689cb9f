"""/v1/api-keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import api_keys
from server.api.pagination import PageQuery, Pagination
from server.api.requests import Body, authenticated, json_body, query
from server.api.v1.paths import path_id
from server.api.v1.responses import created, listing, ok
from server.services import services


class NewApiKey(Body):
    name: str = Field(title="Name", min_length=1, max_length=100)
    scope: Literal["read", "write"] = Field(default="write", title="Scope")


class ApiKeyPage(TypedDict):
    object: Literal["list"]
    data: list[api_keys.ApiKey]  # newest first, revoked ones included
    pagination: Pagination


async def create(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, NewApiKey)
    key = await api_keys.create(services(request).db, caller.user, body.name, body.scope)
    return created(key, f"/v1/api-keys/{key['id']}")


async def list_keys(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, PageQuery)
    keys, total = await api_keys.list_for(services(request).db, caller.user, params.limit, params.offset)
    return listing(keys, params, total)


async def revoke(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await api_keys.revoke(services(request).event_log, caller.user, path_id(request, "key_id")))
