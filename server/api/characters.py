"""/api/character/*: player characters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server import characters
from server.api.envelope import success
from server.api.requests import Body, authenticated, json_body
from server.errors import Invalid

CharacterClass = Literal["fighter", "cleric", "magic_user", "thief", "dwarf", "elf", "halfling"]
Alignment = Literal["lawful", "neutral", "chaotic"]
MAX_HP_CHANGE = 10_000


class NewCharacter(Body):
    character_name: str = Field(title="Character name", min_length=1, max_length=50)
    class_: CharacterClass = Field(alias="class", title="Class")
    alignment: Alignment = Field(title="Alignment")
    strength: int = Field(title="Strength", ge=3, le=18)
    dexterity: int = Field(title="Dexterity", ge=3, le=18)
    constitution: int = Field(title="Constitution", ge=3, le=18)
    intelligence: int = Field(title="Intelligence", ge=3, le=18)
    wisdom: int = Field(title="Wisdom", ge=3, le=18)
    charisma: int = Field(title="Charisma", ge=3, le=18)
    session_id: int | None = Field(default=None, title="Session ID", ge=1)


class HitPointChange(Body):
    character_id: int = Field(title="Character ID", ge=1)
    damage: int = Field(default=0, title="Damage", ge=0, le=MAX_HP_CHANGE)
    healing: int = Field(default=0, title="Healing", ge=0, le=MAX_HP_CHANGE)

    @model_validator(mode="after")
    def _something_changes(self) -> HitPointChange:
        if self.damage == 0 and self.healing == 0:
            raise Invalid({"damage": "Give damage or healing greater than 0"})
        return self


async def create(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewCharacter)
    result = await characters.create(request.app.state.event_log, login.user, body.model_dump(by_alias=True))
    return success(result, "Character created successfully")


async def update_hp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, HitPointChange)
    result = await characters.update_hp(
        request.app.state.event_log, login.user, body.character_id, body.damage, body.healing
    )
    return success(result, "HP updated successfully")
