"""The API document (OpenAPI 3.1), built from the route table and the same pydantic models that validate
requests, and the readable page at /api/docs (Swagger UI from the installed swagger-ui-bundle-v2 package;
no CDN). The WebSocket, which OpenAPI cannot describe, is in the description and in `x-websocket`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import swagger_ui_bundle
from pydantic import BaseModel, TypeAdapter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from server import wire
from server.api.envelope import JSONResponse
from server.errors import KINDS

if TYPE_CHECKING:
    from server.api.endpoint import Endpoint

VERSION = "0.1.0"
_REF = "#/components/schemas/{model}"

DESCRIPTION = """\
The JSON API of the BECMI virtual tabletop. Every JSON answer is an envelope:
`{"status": "success", "message": ..., "data": ...}` or
`{"status": "error", "message": ..., "error": <machine code>, "errors": {field: message}}`.

Log in with `POST /api/auth/login.php`: it sets the `sessionToken` cookie and returns `data.csrf_token`.
Every POST made with the cookie must carry that token in the `X-CSRF-Token` header (login and register
are exempt). Whole numbers may not exceed 2147483647.

**Real time.** `GET /api/realtime/ws?session_id=N&last_event_id=M` upgrades to a WebSocket (with the
cookie; a browser's `Origin` must be this server's or one of `ALLOWED_ORIGINS`). The server sends a
`hello` frame, the events after `last_event_id`, then live events, `presence` and `pong` frames; the client
may send `{"type": "ping"}`. Frames and close codes are in `x-websocket`. `GET /api/realtime/poll.php`
is the long-poll equivalent, described below.
"""


def _websocket() -> dict[str, Any]:
    codes = {
        name.removeprefix("CLOSE_").lower(): value for name, value in vars(wire).items() if name.startswith("CLOSE_")
    }
    codes.update({kind.code: kind.close_code for kind in KINDS.values()})  # refusals and errors
    return {
        "path": "/api/realtime/ws",
        "query": {
            "session_id": "game session to follow (you must be its DM or a player)",
            "last_event_id": "resume after this event_id (default 0: every event)",
        },
        "server_frames": {
            "hello": ["session_id", "user_id", "role", "head_event_id", "online_users", "audio"],
            "event": ["event_id", "event_type", "event_data", "created_at"],
            "presence": ["online_users", "online_count"],
            "pong": [],
            "error": ["error", "message"],
        },
        "client_frames": {"ping": []},
        "close_codes": codes,
    }


def _envelopes() -> dict[str, Any]:
    return {
        "Success": {
            "type": "object",
            "required": ["status", "data"],
            "properties": {
                "status": {"const": "success"},
                "message": {"type": "string"},
                "data": {"description": "the answer: its schema where the operation declares one, else README.md"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["status", "message", "error"],
            "properties": {
                "status": {"const": "error"},
                "message": {"type": "string"},
                "error": {"type": "string", "description": "machine-readable code, e.g. validation_failed"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        # The platform API's (/v1) error format.
        "PlatformError": {
            "type": "object",
            "required": ["error", "message", "details"],
            "properties": {
                "error": {"type": "string", "description": "machine-readable code, e.g. subscription_required"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "code", "message"],
                        "properties": {
                            "field": {"type": "string"},
                            "code": {"type": "string", "description": "e.g. required, too_long, invalid_choice"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        },
    }


_STATUS_TEXT = {
    400: "Invalid input (`validation_failed` with `errors` per field, or `bad_request`)",
    401: "Not logged in (`authentication_required`)",
    403: "Not allowed (`insufficient_permissions`, or `csrf_token_invalid` without X-CSRF-Token)",
    404: "Not found (`resource_not_found`)",
    409: "Conflicts with the current state (`conflict`)",
    413: "Body too large (`payload_too_large`)",
    415: "Not application/json (`unsupported_media_type`)",
    429: "Too many attempts or requests (`rate_limit_exceeded`); see Retry-After",
    503: "Database unreachable or connection limit reached (`service_unavailable`)",
}


class _Schemas:
    """components/schemas, with a unique name per model (two modules may each have a `SessionRef`)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = _envelopes()
        self._names: dict[Any, str] = {}  # models and answer TypedDicts

    def schema(self, model: type[BaseModel]) -> dict[str, Any]:
        return model.model_json_schema(ref_template=_REF, mode="validation")

    def typed(self, answer: Any) -> dict[str, str]:
        """A reference to the schema of an answer's TypedDict (its nested ones alongside)."""
        if answer not in self._names:
            name = answer.__name__
            schema = TypeAdapter(answer).json_schema(ref_template=_REF, mode="serialization")
            for nested, definition in schema.pop("$defs", {}).items():
                if self.components.setdefault(nested, definition) != definition:
                    raise RuntimeError(f"two schemas named {nested} in the API document")
            # Another of that name, unless it is this one, met earlier inside another answer.
            if self.components.get(name, schema) != schema:
                name = f"{answer.__module__.rsplit('.', 1)[-1]}.{name}"
            self.components[name] = schema
            self._names[answer] = name
        return {"$ref": _REF.format(model=self._names[answer])}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        if model not in self._names:
            name = model.__name__
            if name in self.components:
                name = f"{model.__module__.rsplit('.', 1)[-1]}.{name}"
            schema = self.schema(model)
            self.components.update(schema.pop("$defs", {}))
            self.components[name] = schema
            self._names[model] = name
        return {"$ref": _REF.format(model=self._names[model])}


def error_statuses(endpoint: Endpoint) -> list[int]:
    """Every error status the endpoint can answer: its own, and those its shape implies."""
    statuses = set(endpoint.errors)
    if endpoint.body or endpoint.query or endpoint.upload:
        statuses |= {400, 503}
    if endpoint.body or endpoint.upload:
        statuses |= {413, 415} if endpoint.body else {413}
    if endpoint.login:
        statuses |= {401, 503}
        if endpoint.method != "GET":
            statuses.add(403)
    if endpoint.platform:
        statuses.add(429)  # the plan's request quota
    return sorted(statuses)


def _query(field: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is absent, never `null`: drop the null branch pydantic writes."""
    branches = [b for b in field.get("anyOf", ()) if b != {"type": "null"}]
    if len(branches) == 1:
        field = {**{k: v for k, v in field.items() if k != "anyOf"}, **branches[0]}
    if field.get("default", 0) is None:
        field = {k: v for k, v in field.items() if k != "default"}
    return field


def _path_parameter(endpoint: Endpoint, name: str) -> dict[str, Any]:
    """/v1 ids in paths are whole numbers (anything else is 404, like an unknown id)."""
    if endpoint.platform and name.endswith("_id"):
        return {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    return {"type": "string", "maxLength": 255}


def _parameters(schemas: _Schemas, path: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_parameter(endpoint, name)}
        for name in (part[1:-1] for part in path.split("/") if part.startswith("{"))
    ]
    if endpoint.query is not None:
        schema = schemas.schema(endpoint.query)
        required = set(schema.get("required", ()))
        for name, field in schema["properties"].items():
            parameters.append({"name": name, "in": "query", "required": name in required, "schema": _query(field)})
    return parameters


def _request_body(schemas: _Schemas, endpoint: Endpoint) -> dict[str, Any] | None:
    if endpoint.upload:
        form = endpoint.form or {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "the image, at most 5 MB"},
                "post_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            },
        }
        return {"required": True, "content": {"multipart/form-data": {"schema": form}}}
    if endpoint.body is None:
        return None
    # An empty body reads as {} (server/api/requests.py): it is optional where every field is.
    required = any(field.is_required() for field in endpoint.body.model_fields.values())
    return {"required": required, "content": {"application/json": {"schema": schemas.ref(endpoint.body)}}}


_QUOTA_HEADERS = {
    name: {"schema": {"type": "integer"}, "description": text}
    for name, text in (
        ("X-RateLimit-Limit", "requests per hour of your plan"),
        ("X-RateLimit-Remaining", "requests left in the moving hour"),
        ("X-RateLimit-Reset", "epoch seconds when the oldest request of the hour leaves it"),
        ("X-RateLimit-Burst-Limit", "requests per minute of your plan"),
        ("X-RateLimit-Burst-Remaining", "requests left in the moving minute"),
        ("X-RateLimit-Burst-Reset", "epoch seconds when the oldest request of the minute leaves it"),
    )
}


def _success(schemas: _Schemas, endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.status == 204:
        return {"description": "Done (no content)", "headers": _QUOTA_HEADERS}
    if endpoint.media_type != "application/json":
        schema: dict[str, Any] = {"type": "string"}
    elif endpoint.enveloped and endpoint.answer is not None:
        data = {"type": "object", "properties": {"data": schemas.typed(endpoint.answer)}}
        schema = {"allOf": [{"$ref": _REF.format(model="Success")}, data]}
    elif endpoint.enveloped:
        schema = {"$ref": _REF.format(model="Success")}
    elif endpoint.answer is not None:
        schema = schemas.typed(endpoint.answer)
    else:
        schema = {"type": "object"}
    answer: dict[str, Any] = {"description": "Success", "content": {endpoint.media_type: {"schema": schema}}}
    if endpoint.platform:
        answer["headers"] = _QUOTA_HEADERS
        if endpoint.status == 201:
            answer["description"] = "Created; Location names the new resource"
    return answer


def _error(status: int, platform: bool = False) -> dict[str, Any]:
    model = "PlatformError" if platform else "Error"
    answer: dict[str, Any] = {
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
    }
    headers: dict[str, Any] = dict(_QUOTA_HEADERS) if platform else {}
    if status == 429:
        headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "seconds to wait"}
    if headers:
        answer["headers"] = headers
    return answer


def _operation(schemas: _Schemas, path: str, endpoint: Endpoint) -> dict[str, Any]:
    body = _request_body(schemas, endpoint)  # first: a request model keeps its plain name beside an answer's
    operation: dict[str, Any] = {
        "operationId": endpoint.method.lower()
        + path.replace("/", "_")
        .replace(".php", "")
        .replace("{", "")
        .replace("}", "")
        .replace("-", "_")
        .replace(".", "_"),
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": _parameters(schemas, path, endpoint),
        "responses": {
            str(endpoint.status): _success(schemas, endpoint),
            **{str(s): _error(s, endpoint.platform) for s in error_statuses(endpoint)},
        },
    }
    if body is not None:
        operation["requestBody"] = body
    if endpoint.login:
        cookie: dict[str, list[str]] = {"session": [], "csrf": []} if endpoint.method != "GET" else {"session": []}
        # /v1 also takes a session token or an API key as a bearer, which needs no CSRF token.
        operation["security"] = [{"bearer": []}, cookie] if endpoint.platform else [cookie]
    return operation


def document(endpoints: list[tuple[str, Endpoint]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the given (full path, endpoint) pairs."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for path, endpoint in endpoints:
        for method in (endpoint.method, *endpoint.also):
            operation = _operation(schemas, path, endpoint)
            operation["operationId"] = method.lower() + operation["operationId"].removeprefix(endpoint.method.lower())
            if method != endpoint.method:
                operation["security"] = [{"session": [], "csrf": []}]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "BECMI VTT API", "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionToken"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "/v1: a session token from POST /v1/auth/login, or an API key (vtt_live_...)",
                },
            },
        },
        "x-websocket": _websocket(),
    }


def answer(endpoints: list[tuple[str, Endpoint]]) -> Response:
    return JSONResponse(document(endpoints))


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>BECMI VTT API</title>
<link rel="stylesheet" href="docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});</script>
</body>
</html>
"""


async def docs_page(request: Request) -> Response:
    """The API document as a page; relative links, so it works under a path prefix too."""
    return HTMLResponse(_PAGE)


def swagger_ui_files() -> StaticFiles:
    return StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path))
