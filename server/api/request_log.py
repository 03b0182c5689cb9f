"""Each HTTP request, timed and reported once: to the latency histogram and (with ACCESS_LOG) to the log,
by route template (never the raw path: that bounds the metric's labels and keeps ids and query strings out
of the log), method, status, duration and user id. Never a cookie, token or body."""

from __future__ import annotations

import logging
import time

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.metrics import Metrics

log = logging.getLogger("server.request")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestLog:
    """ASGI middleware. `templates` maps each endpoint function to its path template."""

    def __init__(self, app: ASGIApp, metrics: Metrics, templates: dict[object, str], *, log_lines: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        self.log_lines = log_lines  # a line per request costs about as much as the rest of this middleware

    def _route(self, scope: Scope) -> str:
        endpoint = scope.get("endpoint")
        if isinstance(endpoint, StaticFiles):
            return "static"
        return self.templates.get(endpoint, "unmatched")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping here becomes a 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = self._route(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.metrics.observe_request(route, method, status, seconds)
            if self.log_lines:
                self._log(route, method, status, seconds, scope)

    def _log(self, route: str, method: str, status: int, seconds: float, scope: Scope) -> None:
        login = scope.get("login_session")
        user_id = login.user.user_id if login is not None else None
        duration_ms = round(seconds * 1000, 2)
        log.info(
            "%s %s %s %.2f ms user %s",
            method,
            route,
            status,
            duration_ms,
            user_id,
            extra={
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": user_id,
            },
        )
