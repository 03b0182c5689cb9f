"""One HTTP operation of the route table, with what server/api/openapi.py needs to describe it. The
legacy table is server/api/routes.py, the platform API's server/api/v1/routes.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    """One HTTP operation. `errors` are the statuses particular to it (404, 409, 429...); those that
    follow from its shape (400 for a body or query, 401/403 when `login`, 413/415 for a JSON body,
    405, 503) are added by the API document."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    login: bool = True  # needs the session cookie (and, for a POST, the X-CSRF-Token header)
    upload: bool = False  # the body is multipart/form-data, not JSON (`form` describes it)
    form: dict[str, Any] | None = None
    also: tuple[str, ...] = ()  # more methods for the same operation (PATCH beside PUT)
    media_type: str = "application/json"  # of the success answer
    enveloped: bool = True  # the success answer is the {"status": "success", "data": ...} envelope
    status: int = 200  # of the success answer (201 for a creation, 204 for a deletion on /v1)
    platform: bool = False  # a /v1 operation: its error format, bearer tokens, the request quota
    answer: Any = None  # the TypedDict of the success answer's `data`, where one is declared

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=[self.method, *self.also])


def _get(path: str, handler: Handler, summary: str, tag: str, **more: object) -> Endpoint:
    return Endpoint("GET", path, handler, summary, tag, **more)  # type: ignore[arg-type]


def _post(path: str, handler: Handler, summary: str, tag: str, **more: object) -> Endpoint:
    return Endpoint("POST", path, handler, summary, tag, **more)  # type: ignore[arg-type]


def _put(path: str, handler: Handler, summary: str, tag: str, **more: object) -> Endpoint:
    return Endpoint("PUT", path, handler, summary, tag, also=("PATCH",), **more)  # type: ignore[arg-type]


def _delete(path: str, handler: Handler, summary: str, tag: str, **more: object) -> Endpoint:
    return Endpoint("DELETE", path, handler, summary, tag, **more)  # type: ignore[arg-type]
