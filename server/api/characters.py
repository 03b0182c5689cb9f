"""/api/character/*: player characters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server import characters
from server.api.envelope import success
from server.api.pagination import PageQuery, pagination
from server.api.requests import Body, authenticated, json_body, query
from server.errors import Invalid
from server.services import services

CharacterClass = Literal["fighter", "cleric", "magic_user", "thief", "dwarf", "elf", "halfling"]
Alignment = Literal["lawful", "neutral", "chaotic"]
MAX_HP_CHANGE = 10_000
MAX_XP_GRANT = 1_000_000
MAX_XP_CHARACTERS = 100


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


class CharacterRef(Body):
    character_id: int = Field(title="Character ID", ge=1)


class CharacterListQuery(PageQuery):
    session_id: int | None = Field(default=None, title="Session ID", ge=1)


class XpGrant(Body):
    session_id: int = Field(title="Session ID", ge=1)
    character_ids: list[int] = Field(title="Character IDs", min_length=1, max_length=MAX_XP_CHARACTERS)
    xp_amount: int = Field(title="XP amount", ge=1, le=MAX_XP_GRANT)
    reason: str | None = Field(default=None, title="Reason", max_length=200)

    @field_validator("character_ids")
    @classmethod
    def _distinct_positive(cls, value: list[int]) -> list[int]:
        if any(cid < 1 for cid in value):
            raise ValueError("Character IDs must be positive whole numbers")
        return list(dict.fromkeys(value))  # a character listed twice gains the XP once


async def create(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewCharacter)
    result = await characters.create(services(request).event_log, login.user, body.model_dump(by_alias=True))
    return success(result, "Character created successfully")


async def update_hp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, HitPointChange)
    result = await characters.update_hp(
        services(request).event_log, login.user, body.character_id, body.damage, body.healing
    )
    return success(result, "HP updated successfully")


async def get(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, CharacterRef)
    return success(await characters.get(services(request).db, login.user, params.character_id))


async def list_characters(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, CharacterListQuery)
    rows, total = await characters.list_visible(
        services(request).db, login.user, params.session_id, params.limit, params.offset
    )
    return success({"characters": rows, "pagination": pagination(params, total)})


async def grant_xp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, XpGrant)
    result = await characters.grant_xp(
        services(request).event_log,
        login.user,
        body.session_id,
        body.character_ids,
        body.xp_amount,
        body.reason or None,
    )
    return success(result, "Experience points granted")
