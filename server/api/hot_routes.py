"""The hottest POSTs (update-hp, many times a second in a fight) answered without Starlette's middleware and
routing: about a tenth of such a request's CPU went to walking the route table and the middleware chain.

What a client relies on is unchanged, because everything it sees is made by the same code as on every
other route: the handler reads the cookie, checks the CSRF header and the body's size and shape; an error
becomes the same envelope through the app's own exception handlers (an unknown one is answered 500 and
raised on, as Starlette's outermost middleware does); the request is timed, counted and logged by the same
`RequestLog`. Any other method on these paths (405), and any path served under a root path, takes the
ordinary route. tests/api/test_hot_routes.py compares the answers of both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.endpoint import Handler
from server.api.request_log import RequestLog
from server.metrics import Metrics


class _Direct:
    """One handler as an ASGI app: Starlette's `request_response` and its exception handling, no routing."""

    def __init__(self, handler: Handler, handled: Mapping[Any, Callable[..., Any]], fallback: Callable[..., Any]):
        self.handler = handler
        self.handled = handled  # exception class -> handler, as Starlette's ExceptionMiddleware gets them
        self.fallback = fallback  # the handler of any other exception, as Starlette's ServerErrorMiddleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["endpoint"] = self.handler  # what RequestLog names the route by, as the router sets it
        request = Request(scope, receive, send)
        try:
            response = await self.handler(request)
        except Exception as exc:
            handle = next((self.handled[cls] for cls in type(exc).__mro__ if cls in self.handled), None)
            if handle is None:
                await (await self.fallback(request, exc))(scope, receive, send)
                raise
            response = await handle(request, exc)
            exc.__traceback__ = None  # as Starlette does: a reused exception instance would collect tracebacks
        await response(scope, receive, send)


class HotRoutes:
    """POSTs to the given handlers' paths, each run as the router would run it; None for any other request."""

    def __init__(
        self,
        handlers: Iterable[Handler],
        templates: Mapping[object, str],
        exception_handlers: Mapping[Any, Callable[..., Any]],
        metrics: Metrics,
        *,
        log_lines: bool,
    ) -> None:
        handled = {cls: handle for cls, handle in exception_handlers.items() if cls not in (500, Exception)}
        fallback = exception_handlers[Exception]
        timed = dict(templates)
        self._apps: dict[str, ASGIApp] = {
            templates[handler]: RequestLog(_Direct(handler, handled, fallback), metrics, timed, log_lines=log_lines)
            for handler in handlers
        }

    def app_for(self, scope: Scope) -> ASGIApp | None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        return self._apps.get(scope["path"])
