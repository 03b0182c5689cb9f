"""The response envelope of the BECMI VTT API, and the one place errors become responses (their codes
and statuses come from the table in server/errors.py).

Success: {"status": "success", "message": ..., "data": ...}; a read (GET) has no message, as in the spec
Error:   {"status": "error", "message": ..., "error": <machine code>, "errors": {field: message}}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server import codec
from server.database import DatabaseUnavailable
from server.errors import DomainError, Invalid, RateLimited
from server.errors import kind as error_kind

log = logging.getLogger("server.api")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("authentication_required", "Unauthorized"),
    403: ("insufficient_permissions", "Forbidden"),
    404: ("resource_not_found", "Endpoint not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported content type"),
    429: ("rate_limit_exceeded", "Too many requests"),
}


class JSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return codec.dumps(content)


def success(data: Any = None, message: str | None = None, status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"status": "success"}
    if message is not None:
        body["message"] = message
    body["data"] = data if data is not None else {}
    return JSONResponse(body, status_code=status)


def failure(
    status: int, code: str, message: str, errors: dict[str, str] | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"status": "error", "message": message, "error": code}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass(frozen=True)
class Problem:
    """An error as both API families describe it: the one mapping their renderers share."""

    status: int
    code: str
    message: str
    errors: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] | None = None


def problem(request: Request, exc: Exception) -> Problem:
    """Map any exception to its status, machine code and message (domain errors by the table in
    server/errors.py); unknown ones are logged as 500. Also answers a WebSocket refused before its
    handshake completes: Starlette sends the response as the handshake's denial."""
    if isinstance(exc, DomainError):
        kind = error_kind(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        codes = exc.codes if isinstance(exc, Invalid) else {}
        return Problem(kind.http_status, kind.code, exc.message, exc.errors, codes, headers)
    if isinstance(exc, HTTPException):
        code, message = _HTTP_CODES.get(exc.status_code, ("error", str(exc.detail)))
        return Problem(exc.status_code, code, message, headers=exc.headers)
    if isinstance(exc, DatabaseUnavailable):
        log.error("database unavailable: %s", exc)
        return Problem(503, "service_unavailable", "The database is not reachable; try again shortly")
    log.exception("unhandled error on %s %s", getattr(request, "method", "WEBSOCKET"), request.url.path, exc_info=exc)
    return Problem(500, "internal_error", "Internal server error")


Renderer = Callable[[Problem], Response]


def exception_handlers(
    render: Renderer, by_prefix: Mapping[str, Renderer] | None = None
) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette exception handlers that answer every error through `render` (one per API family), or
    through the renderer of the first path prefix in `by_prefix` the request's path starts with."""

    async def handle(request: Request, exc: Exception) -> Response:
        for prefix, family in (by_prefix or {}).items():
            if request.url.path.startswith(prefix):
                return family(problem(request, exc))
        return render(problem(request, exc))

    return {DomainError: handle, HTTPException: handle, DatabaseUnavailable: handle, Exception: handle}


def render_legacy(found: Problem) -> Response:
    return failure(found.status, found.code, found.message, found.errors, found.headers)


EXCEPTION_HANDLERS = exception_handlers(render_legacy)
