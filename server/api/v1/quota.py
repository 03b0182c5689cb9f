"""ASGI middleware of the /v1 mount: counts each authenticated request against the caller's plan (per user
or API key; the login itself per client address, on the first plan) and puts the X-RateLimit-* headers on
its answer, errors included. Beyond the quota it answers 429 `rate_limit_exceeded` with Retry-After
without running the endpoint. Requests without valid credentials are not counted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.envelope import Problem
from server.api.requests import login_session
from server.api.v1.responses import render_error
from server.database import DatabaseUnavailable
from server.proxy import client_address
from server.request_quota import RequestQuota
from server.services import services

LOGIN_PATH = "/v1/auth/login"


class QuotaMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        state = services(request)
        try:
            caller = await login_session(request)
        except DatabaseUnavailable:
            # The endpoint will answer 503 itself; there is no plan to count against.
            await self.app(scope, receive, send)
            return
        quota: RequestQuota = state.request_quota
        if caller is not None:
            counted = await quota.count(caller.quota_key, caller.plan)
        elif request.url.path.rstrip("/") == LOGIN_PATH:
            counted = await quota.count(f"address:{client_address(request, state.settings)}", state.settings.plans[0])
        else:
            # Without credentials every other /v1 path answers 401 (or 404/405) at the cost of one lookup:
            # nothing to count, and a shared address (a NAT) must not turn those 401s into 429s.
            await self.app(scope, receive, send)
            return
        if counted is None:
            await self.app(scope, receive, send)
            return
        headers = counted.headers()
        if not counted.allowed:
            message = f"Rate limit exceeded: retry in {counted.retry_after} s"
            response = render_error(Problem(429, "rate_limit_exceeded", message, headers=headers))
            await response(scope, receive, send)
            return
        raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
