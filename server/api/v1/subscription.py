"""/v1/subscription: the caller's subscription (plan, status, end of the paid period)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import subscriptions
from server.api.requests import authenticated
from server.api.v1.responses import ok
from server.services import services


async def get(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await subscriptions.current(services(request).db, caller.user))
