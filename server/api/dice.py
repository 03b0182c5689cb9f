"""/api/dice/*: dice rolled by the server, shown to whom the visibility says (server/dice_rolls.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server import dice_rolls
from server.api.envelope import success
from server.api.pagination import HistoryQuery
from server.api.requests import MAX_INTEGER, Body, authenticated, json_body, query
from server.errors import Invalid
from server.services import services

MAX_WHISPER_TO = 20
UserId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]


class WhisperTo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    whisper_to: list[UserId] = Field(title="Whisper to", min_length=1, max_length=MAX_WHISPER_TO)


class DamageTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    character_id: int | None = Field(default=None, title="Character ID", ge=1, le=MAX_INTEGER)
    monster_instance_id: int | None = Field(default=None, title="Monster instance ID", ge=1, le=MAX_INTEGER)

    @model_validator(mode="after")
    def _exactly_one(self) -> DamageTarget:
        if (self.character_id is None) == (self.monster_instance_id is None):
            raise Invalid({"apply_damage_to": "Give exactly one of character_id and monster_instance_id"})
        return self

    def target(self) -> tuple[Literal["character", "monster"], int]:
        if self.monster_instance_id is not None:
            return "monster", self.monster_instance_id
        return "character", self.character_id or 0


class RollRequest(Body):
    session_id: int = Field(title="Session ID", ge=1)
    expression: str = Field(title="Expression", max_length=200)
    label: str | None = Field(default=None, title="Label", max_length=100)
    visibility: Literal["public", "dm", "blind", "self"] | WhisperTo = Field(default="public", title="Visibility")
    apply_damage_to: DamageTarget | None = Field(default=None, title="Apply damage to")


async def roll(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, RollRequest)
    whisper = body.visibility if isinstance(body.visibility, WhisperTo) else None
    result = await dice_rolls.roll(
        services(request).event_log,
        services(request).send_rate,
        login.user,
        body.session_id,
        body.expression,
        label=body.label or None,
        visibility="whisper" if whisper else body.visibility,  # type: ignore[arg-type]
        whisper_to=whisper.whisper_to if whisper else None,
        damage_to=body.apply_damage_to.target() if body.apply_damage_to else None,
    )
    return success(result, "Rolled")


async def history(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, HistoryQuery)
    result = await dice_rolls.history(
        services(request).event_log, login.user, params.session_id, params.before_id, params.limit
    )
    return success(result)
