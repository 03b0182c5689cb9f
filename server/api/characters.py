"""/api/character/*: player characters."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import characters
from server.api.envelope import success
from server.api.pagination import PageQuery, Pagination, pagination
from server.api.requests import Body, HitPoints, authenticated, json_body, query
from server.services import services

MAX_XP_GRANT = 1_000_000
MAX_XP_CHARACTERS = 100


Ability = Annotated[int, Field(ge=characters.MIN_ABILITY, le=characters.MAX_ABILITY)]


class CharacterPage(TypedDict):
    characters: list[characters.Character]  # whole sheets: your own, and those of the games you run
    pagination: Pagination


class NewCharacter(Body):
    character_name: str = Field(title="Character name", min_length=1, max_length=50)
    class_: characters.ClassName = Field(alias="class", title="Class")
    alignment: characters.Alignment = Field(title="Alignment")
    strength: Ability = Field(title="Strength")
    dexterity: Ability = Field(title="Dexterity")
    constitution: Ability = Field(title="Constitution")
    intelligence: Ability = Field(title="Intelligence")
    wisdom: Ability = Field(title="Wisdom")
    charisma: Ability = Field(title="Charisma")
    session_id: int | None = Field(default=None, title="Session ID", ge=1)

    def value(self) -> characters.NewCharacter:
        abilities = characters.Abilities(
            self.strength, self.dexterity, self.constitution, self.intelligence, self.wisdom, self.charisma
        )
        return characters.NewCharacter(self.character_name, self.class_, self.alignment, abilities, self.session_id)


class CharacterHitPoints(HitPoints):
    character_id: int = Field(title="Character ID", ge=1)


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
    result = await characters.create(services(request).event_log, login.user, body.value())
    return success(result, "Character created successfully")


async def update_hp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, CharacterHitPoints)
    result = await characters.update_hp(services(request).event_log, login.user, body.character_id, body.change())
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
