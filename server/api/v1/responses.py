"""How /v1 answers: the resource itself as JSON (201 with Location for a creation), lists as
`{object: "list", data, pagination}`, and errors as

    {"error": <code>, "message": ..., "details": [{"field": ..., "code": ..., "message": ...}]}

The error mapping (status, code, message) is the one the legacy envelope uses (server/api/envelope.py);
only the rendering differs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from server.api.envelope import JSONResponse, Problem, exception_handlers
from server.api.pagination import PageQuery, pagination


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def created(data: Any, location: str) -> JSONResponse:
    return JSONResponse(data, status_code=201, headers={"Location": location})


def no_content() -> Response:
    return Response(status_code=204)


def listing(items: list[Any], params: PageQuery, total: int) -> JSONResponse:
    return JSONResponse({"object": "list", "data": items, "pagination": pagination(params, total)})


def error_body(found: Problem) -> dict[str, Any]:
    details = [
        {"field": name, "code": found.codes.get(name, "invalid"), "message": message}
        for name, message in found.errors.items()
    ]
    return {"error": found.code, "message": found.message, "details": details}


def render_error(found: Problem) -> Response:
    return JSONResponse(error_body(found), status_code=found.status, headers=found.headers)


V1_EXCEPTION_HANDLERS = exception_handlers(render_error)
