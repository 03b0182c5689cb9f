"""The /v1 route table. Errors under /v1 render in the platform format (server/api/v1/responses.py)
and every answer carries the plan's request quota (server/api/v1/quota.py)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Mount, Route

from server.api.v1 import api_keys, assets, auth, campaigns, users
from server.api.v1.quota import QuotaMiddleware
from server.api.v1.responses import V1_EXCEPTION_HANDLERS


def _route(path: str, endpoint: object, *methods: str) -> Route:
    return Route(path, endpoint, methods=list(methods))  # type: ignore[arg-type]


V1_ROUTES: list[BaseRoute] = [
    _route("/auth/login", auth.login, "POST"),
    _route("/auth/logout", auth.logout, "POST"),
    _route("/auth/refresh", auth.refresh, "POST"),
    _route("/users/me", users.me, "GET"),
    _route("/users/me", users.update_me, "PATCH"),
    _route("/users/me", users.delete_me, "DELETE"),
    _route("/users/me/password", users.change_password, "POST"),
    _route("/api-keys", api_keys.create, "POST"),
    _route("/api-keys", api_keys.list_keys, "GET"),
    _route("/api-keys/{key_id}", api_keys.revoke, "DELETE"),
    _route("/campaigns", campaigns.create, "POST"),
    _route("/campaigns", campaigns.list_campaigns, "GET"),
    _route("/campaigns/{campaign_id}", campaigns.get, "GET"),
    _route("/campaigns/{campaign_id}", campaigns.update, "PATCH"),
    _route("/campaigns/{campaign_id}", campaigns.delete, "DELETE"),
    _route("/campaigns/{campaign_id}/members", campaigns.list_members, "GET"),
    _route("/campaigns/{campaign_id}/members", campaigns.add_member, "POST"),
    _route("/campaigns/{campaign_id}/members/{user_id}", campaigns.remove_member, "DELETE"),
    _route("/campaigns/{campaign_id}/sessions", campaigns.list_sessions, "GET"),
    _route("/assets", assets.upload, "POST"),
    _route("/assets", assets.list_assets, "GET"),
    _route("/assets/{asset_id}", assets.get, "GET"),
    _route("/assets/{asset_id}", assets.delete, "DELETE"),
]

# The quota middleware sits outside the exception middleware, so that errors carry its headers too.
V1 = Mount(
    "/v1",
    routes=V1_ROUTES,
    middleware=[Middleware(QuotaMiddleware), Middleware(ExceptionMiddleware, handlers=V1_EXCEPTION_HANDLERS)],
)

# The bytes of assets, outside /v1: public, cacheable for ever, named by their content hash.
ASSET_FILES = Route("/assets/{name}", assets.serve, methods=["GET"])
