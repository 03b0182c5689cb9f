"""Reading requests: JSON bodies validated by pydantic, query parameters, the client's address, and the
login session with its CSRF check. Every failure here is a DomainError, so it reaches the envelope."""

from __future__ import annotations

import functools
import re
import typing
from typing import Any, TypeVar

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from starlette.requests import Request

from server import codec, credentials, hit_points, login_sessions
from server.credentials import Caller
from server.database import MAX_INTEGER
from server.errors import (
    BadRequest,
    CsrfRejected,
    Forbidden,
    Invalid,
    TooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from server.login_sessions import COOKIE_NAME
from server.services import services

Model = TypeVar("Model", bound=BaseModel)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Query strings are text: a number there is plain ASCII digits (and a decimal part where the field is not
# whole), nothing int() would also take (" 1", "+1", "1_0", Arabic-Indic digits). The length cap keeps
# int() cheap; anything longer fails as "not a whole number".
_QUERY_INTEGER = re.compile(r"-?[0-9]{1,20}")
_QUERY_NUMBER = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")
_QUERY_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def _label(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    return info.title if info and info.title else field.replace("_", " ").capitalize()


def _contains_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in `value` (strings, and the keys and values of nested JSON).
    Iterative: a deeply nested JSON object must not exhaust the interpreter's recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class Body(BaseModel):
    """Base of every request model: surrounding white space is trimmed, unknown fields are ignored.

    Types are strict: a whole number must be a JSON number (`true` and `"1"` are refused; `3.0` is taken
    as 3 by `json_body`, as JSON Schema counts it an integer) and stays within MAX_INTEGER; text must be
    a JSON string. No text, however nested, may contain a NUL character (PostgreSQL cannot store one).
    An after-validator that checks several fields together raises server.errors.Invalid directly."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        field = str(info.field_name)
        numbers = value if isinstance(value, list) else [value]
        if any(isinstance(n, int) and not isinstance(n, bool) and abs(n) > MAX_INTEGER for n in numbers):
            raise ValueError(f"{_label(cls, field)} must be at most {MAX_INTEGER}")
        if _contains_nul(value):
            raise ValueError(f"{_label(cls, field)} must not contain NUL characters (U+0000)")
        return value


@functools.cache
def _typed_fields(model: type[BaseModel]) -> dict[str, type]:
    """The model's numeric and yes/no fields by the key a client sends (alias or name): int, float or bool."""
    found: dict[str, type] = {}
    for name, info in model.model_fields.items():
        kinds = set(typing.get_args(info.annotation)) | {info.annotation}
        for kind in (int, float, bool):
            if kind in kinds or any(typing.get_origin(k) is list and typing.get_args(k) == (kind,) for k in kinds):
                found[info.alias or name] = kind
                break
    return found


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INTEGER else value


def _json_numbers(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """3.0 for a whole-number field becomes 3 (JSON has one number type; JSON Schema's integer includes it)."""
    fields = _typed_fields(model)
    converted = dict(data)
    for key, kind in fields.items():
        value = data.get(key)
        if kind is int and isinstance(value, float):
            converted[key] = _whole(value)
        elif kind is int and isinstance(value, list):
            converted[key] = [_whole(item) for item in value]
    return converted


def _query_values(model: type[BaseModel], params: dict[str, str]) -> dict[str, Any]:
    """Digits for a numeric field become that number, true/false (or 1/0) for a yes/no field that value;
    anything else stays text and fails validation."""
    converted: dict[str, Any] = dict(params)
    for key, kind in _typed_fields(model).items():
        text = params.get(key)
        if text is None:
            continue
        if kind is int and _QUERY_INTEGER.fullmatch(text):
            converted[key] = int(text)
        elif kind is float and _QUERY_NUMBER.fullmatch(text):
            converted[key] = float(text)
        elif kind is bool and text in _QUERY_BOOLEANS:
            converted[key] = _QUERY_BOOLEANS[text]
    return converted


def _bounds(model: type[BaseModel], field: str) -> tuple[Any, Any]:
    info = model.model_fields.get(field)
    low = high = None
    for item in info.metadata if info else ():
        if isinstance(item, annotated_types.Ge | annotated_types.MinLen):
            low = getattr(item, "ge", getattr(item, "min_length", None))
        if isinstance(item, annotated_types.Le | annotated_types.MaxLen):
            high = getattr(item, "le", getattr(item, "max_length", None))
    return low, high


def _message(model: type[BaseModel], field: str, error: Any) -> str:
    info = model.model_fields.get(field)
    label = _label(model, field)
    kind = error["type"]
    low, high = _bounds(model, field)
    if kind == "missing":
        return f"{label} is required"
    if kind in ("greater_than_equal", "less_than_equal") and low is not None and high is not None:
        return f"{label} must be between {low} and {high}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{label} must be at least {error['ctx'].get('ge', error['ctx'].get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{label} must be at most {error['ctx'].get('le', error['ctx'].get('lt'))}"
    if kind == "string_pattern_mismatch" or (kind == "string_too_long" and info and info.description):
        return f"{label} must be {info.description}" if info and info.description else f"{label} is not valid"
    if kind in ("string_too_short", "string_too_long"):
        if low is not None and high is not None:
            return f"{label} must be between {low} and {high} characters"
        if kind == "string_too_short":
            return f"{label} must be at least {low} characters"
        return f"{label} must be at most {high} characters"
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of: {error['ctx']['expected']}"
    if kind.startswith("int_"):
        return f"{label} must be a whole number"
    if kind.startswith("float_"):
        return f"{label} must be a number"
    if kind.startswith("bool_"):
        return f"{label} must be true or false"
    if kind == "string_type":
        return f"{label} must be text"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{label}: {error['msg']}"


_CODES = {
    "missing": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "greater_than_equal": "out_of_range",
    "greater_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "string_pattern_mismatch": "invalid_format",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "string_type": "invalid_type",
    "bool_type": "invalid_type",
}


def _code(kind: str) -> str:
    """The machine code of one field error, for the /v1 error `details`."""
    if kind.startswith("int_"):
        return "invalid_type"
    return _CODES.get(kind, "invalid")


def validate(model: type[Model], data: Any) -> Model:
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        codes: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "body"
            errors.setdefault(field, _message(model, field, error))
            codes.setdefault(field, _code(error["type"]))
        raise Invalid(errors, codes=codes) from None


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"Request body is larger than {limit} bytes")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise TooLarge(f"Request body is larger than {limit} bytes")
    return bytes(chunks)


async def json_body(request: Request, model: type[Model]) -> Model:
    settings = services(request).settings
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", ""):
        raise UnsupportedMediaType("Content-Type must be application/json")
    raw = await read_limited(request, settings.max_body_size)
    try:
        data = codec.loads(raw) if raw.strip() else {}
    except codec.DecodeError:
        raise BadRequest("Request body is not valid JSON") from None
    if isinstance(data, dict):
        data = _json_numbers(model, data)
    return validate(model, data)


def from_text(model: type[Model], values: dict[str, str]) -> Model:
    """Fields that arrive as text (a query string, a multipart form): numbers and yes/no from their text."""
    return validate(model, _query_values(model, values))


def query(request: Request, model: type[Model]) -> Model:
    return from_text(model, dict(request.query_params))


async def login_session(request: Request) -> Caller | None:
    """The request's caller by bearer token, API key or cookie (looked up once per request), or None."""
    if "login_session" not in request.scope:
        found = services(request)
        request.scope["login_session"] = await credentials.identify(
            found.db,
            found.secret_key,
            found.settings.plans,
            authorization=request.headers.get("authorization"),
            cookie=request.cookies.get(COOKIE_NAME),
        )
    caller: Caller | None = request.scope["login_session"]
    return caller


async def authenticated_user(request: Request) -> Caller:
    """The request's caller; Unauthenticated without valid credentials."""
    caller = await login_session(request)
    if caller is None:
        raise Unauthenticated()
    return caller


async def authenticated(request: Request) -> Caller:
    """The caller; 401 without valid credentials, 403 when a state-changing call made with the cookie lacks
    the CSRF token or one made with a read-only API key."""
    caller = await authenticated_user(request)
    if request.method in UNSAFE_METHODS:
        if caller.session is not None and caller.needs_csrf:
            if not login_sessions.csrf_matches(caller.session, request.headers.get("x-csrf-token")):
                raise CsrfRejected("Invalid or missing CSRF token")
        if not caller.can_write:
            raise Forbidden("This API key is read-only: its scope does not include write")
    return caller


# Request models that several resources share.


class SessionRef(Body):
    session_id: int = Field(title="Session ID", ge=1)


class HitPoints(Body):
    """Damage and healing of a character or a monster instance."""

    damage: int = Field(default=0, title="Damage", ge=0, le=hit_points.MAX_CHANGE)
    healing: int = Field(default=0, title="Healing", ge=0, le=hit_points.MAX_CHANGE)

    def change(self) -> hit_points.HitPointChange:
        return hit_points.HitPointChange(self.damage, self.healing)
