"""/api/session/maps/tokens/*: tokens on a battle map."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from server import map_tokens
from server.api.envelope import success
from server.api.maps import MapRef
from server.api.requests import Body, authenticated, json_body, query
from server.errors import Invalid
from server.services import services

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
COLOR_HELP = "a colour like #FF0000"
MAX_POSITION = 100_000.0
MAX_TOKEN_SIZE = 10


def _position(title: str) -> float:
    return Field(title=title, ge=0, le=MAX_POSITION, allow_inf_nan=False)  # type: ignore[no-any-return]


class NewToken(Body):
    map_id: int = Field(title="Map ID", ge=1)
    x_position: float = _position("X position")
    y_position: float = _position("Y position")
    character_id: int | None = Field(default=None, title="Character ID", ge=1)
    monster_instance_id: int | None = Field(default=None, title="Monster instance ID", ge=1)
    label: str | None = Field(default=None, title="Label", min_length=1, max_length=50)
    color: Color | None = Field(default=None, title="Color", description=COLOR_HELP)
    size: int = Field(default=1, title="Size", ge=1, le=MAX_TOKEN_SIZE)
    hidden: bool = Field(default=False, title="Hidden")


class TokenMove(Body):
    token_id: int = Field(title="Token ID", ge=1)
    x_position: float = _position("X position")
    y_position: float = _position("Y position")


class TokenChange(Body):
    token_id: int = Field(title="Token ID", ge=1)
    label: str | None = Field(default=None, title="Label", min_length=1, max_length=50)
    color: Color | None = Field(default=None, title="Color", description=COLOR_HELP)
    size: int | None = Field(default=None, title="Size", ge=1, le=MAX_TOKEN_SIZE)
    hidden: bool | None = Field(default=None, title="Hidden")


class TokenRef(Body):
    token_id: int = Field(title="Token ID", ge=1)


async def add(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewToken)
    fields = body.model_dump(exclude={"map_id"})
    result = await map_tokens.add(services(request).event_log, login.user, body.map_id, fields)
    return success(result, "Token added successfully")


async def move(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, TokenMove)
    result = await map_tokens.move(
        services(request).event_log, login.user, body.token_id, body.x_position, body.y_position
    )
    return success(result, "Token moved successfully")


async def update(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, TokenChange)
    fields = body.model_dump(include=body.model_fields_set - {"token_id"}, exclude_none=True)
    if not fields:
        raise Invalid({"token_id": "Give at least one of label, color, size, hidden"})
    result = await map_tokens.update(services(request).event_log, login.user, body.token_id, fields)
    return success(result, "Token updated successfully")


async def delete(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, TokenRef) if "token_id" in request.query_params else await json_body(request, TokenRef)
    result = await map_tokens.delete(services(request).event_log, login.user, params.token_id)
    return success(result, "Token removed successfully")


async def list_tokens(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, MapRef)
    return success({"tokens": await map_tokens.for_list(services(request).db, login.user, params.map_id)})
