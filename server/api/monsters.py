"""/api/monsters/*: the bestiary and the monster instances of a game session."""

from __future__ import annotations

from typing import Any, cast

from pydantic import Field, ValidationInfo, field_validator
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import bestiary, codec, monster_instances, monster_removal
from server.api.envelope import success
from server.api.pagination import PageQuery, Pagination, pagination
from server.api.requests import Body, HitPoints, authenticated, json_body, query
from server.services import services

MAX_HP = 10_000
MAX_NOTES = 5_000
MAX_OBJECT_CHARS = 20_000  # equipment, treasure and spells, each, as JSON text
# Their nesting: the JSON encoder stops at 255 levels (a 500), and no sheet needs more than a few.
MAX_OBJECT_DEPTH = 32


def _depth(value: Any) -> int:
    """How deeply JSON objects and arrays nest in `value` (iteratively: the input decides the depth)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class MonsterPage(TypedDict):
    monsters: list[bestiary.Monster]
    pagination: Pagination


class InstancePage(TypedDict):
    instances: list[monster_instances.MonsterInstance]  # players get the redacted view
    pagination: Pagination


class MonsterSearch(PageQuery):
    search: str = Field(default="", title="Search", max_length=100)


class MonsterRef(Body):
    monster_id: int = Field(title="Monster ID", ge=1)


class SessionPage(PageQuery):
    session_id: int = Field(title="Session ID", ge=1)


class _Secrets(Body):
    """The DM's own fields of a monster instance."""

    equipment: dict[str, Any] | None = Field(default=None, title="Equipment")
    treasure: dict[str, Any] | None = Field(default=None, title="Treasure")
    spells: dict[str, Any] | None = Field(default=None, title="Spells")
    notes: str | None = Field(default=None, title="Notes", max_length=MAX_NOTES)

    @field_validator("equipment", "treasure", "spells", mode="after")
    @classmethod
    def _not_too_big(cls, value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        if value is not None and _depth(value) > MAX_OBJECT_DEPTH:
            raise ValueError(f"{str(info.field_name).capitalize()} may nest at most {MAX_OBJECT_DEPTH} levels")
        if value is not None and len(codec.dumps_text(value)) > MAX_OBJECT_CHARS:
            raise ValueError(
                f"{str(info.field_name).capitalize()} must be at most {MAX_OBJECT_CHARS} characters as JSON"
            )
        return value


class NewInstances(_Secrets):
    monster_id: int = Field(title="Monster ID", ge=1)
    session_id: int = Field(title="Session ID", ge=1)
    count: int = Field(default=1, title="Count", ge=1, le=monster_instances.MAX_COUNT)
    custom_hp: int | None = Field(default=None, title="Custom HP", ge=1, le=MAX_HP)
    is_named_boss: bool = Field(default=False, title="Named boss")
    instance_name: str | None = Field(default=None, title="Instance name", min_length=1, max_length=50)

    def value(self) -> monster_instances.NewMonsters:
        return monster_instances.NewMonsters(
            self.count,
            self.custom_hp,
            self.is_named_boss,
            self.instance_name,
            self.equipment,
            self.treasure,
            self.spells,
            self.notes,
        )


class InstanceChange(_Secrets):
    instance_id: int = Field(title="Instance ID", ge=1)
    instance_name: str | None = Field(default=None, title="Instance name", min_length=1, max_length=50)
    armor_class: int | None = Field(default=None, title="Armor class", ge=-10, le=20)
    dexterity: int | None = Field(default=None, title="Dexterity", ge=3, le=18)

    def value(self) -> monster_instances.InstanceEdit:
        return cast(monster_instances.InstanceEdit, self.model_dump(include=self.model_fields_set - {"instance_id"}))


class InstanceRef(Body):
    instance_id: int = Field(title="Instance ID", ge=1)


class InstanceHitPoints(HitPoints):
    instance_id: int = Field(title="Instance ID", ge=1)


async def list_monsters(request: Request) -> Response:
    await authenticated(request)
    params = query(request, MonsterSearch)
    rows, total = await bestiary.search(services(request).db, params.search, params.limit, params.offset)
    return success({"monsters": rows, "pagination": pagination(params, total)})


async def get_monster(request: Request) -> Response:
    await authenticated(request)
    params = query(request, MonsterRef)
    return success(await bestiary.get(services(request).db, params.monster_id))


async def create_instance(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewInstances)
    result = await monster_instances.create(
        services(request).event_log, login.user, body.session_id, body.monster_id, body.value()
    )
    return success(result, "Monster instance(s) created successfully")


async def update_instance(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, InstanceChange)
    result = await monster_instances.update(services(request).event_log, login.user, body.instance_id, body.value())
    return success(result, "Monster instance updated successfully")


async def update_hp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, InstanceHitPoints)
    result = await monster_instances.update_hp(services(request).event_log, login.user, body.instance_id, body.change())
    return success(result, "HP updated successfully")


async def delete_instance(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, InstanceRef)
    result = await monster_removal.remove(services(request).event_log, login.user, body.instance_id)
    return success(result, "Monster instance removed")


async def list_instances(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, SessionPage)
    instances, total, _ = await monster_instances.for_session(
        services(request).db, login.user, params.session_id, params.limit, params.offset
    )
    return success({"instances": instances, "pagination": pagination(params, total)})
