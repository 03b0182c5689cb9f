"""/api/monsters/*: the bestiary and the monster instances of a game session."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server import bestiary, codec, monster_instances
from server.api.envelope import success
from server.api.pagination import PageQuery, pagination
from server.api.requests import Body, authenticated, json_body, query
from server.errors import Invalid
from server.services import services

MAX_COUNT = 50  # MAX_BULK_CREATE_COUNT of the legacy server
MAX_HP = 10_000
MAX_NOTES = 5_000
MAX_OBJECT_CHARS = 20_000  # equipment, treasure and spells, each, as JSON text


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
        if value is not None and len(codec.dumps_text(value)) > MAX_OBJECT_CHARS:
            raise ValueError(
                f"{str(info.field_name).capitalize()} must be at most {MAX_OBJECT_CHARS} characters as JSON"
            )
        return value


class NewInstances(_Secrets):
    monster_id: int = Field(title="Monster ID", ge=1)
    session_id: int = Field(title="Session ID", ge=1)
    count: int = Field(default=1, title="Count", ge=1, le=MAX_COUNT)
    custom_hp: int | None = Field(default=None, title="Custom HP", ge=1, le=MAX_HP)
    is_named_boss: bool = Field(default=False, title="Named boss")
    instance_name: str | None = Field(default=None, title="Instance name", min_length=1, max_length=50)

    @model_validator(mode="after")
    def _boss_rules(self) -> NewInstances:
        if self.is_named_boss and not self.instance_name:
            raise Invalid({"instance_name": "A named boss needs an instance name"})
        if self.is_named_boss and self.count != 1:
            raise Invalid({"count": "A named boss is one monster: count must be 1"})
        return self


class InstanceChange(_Secrets):
    instance_id: int = Field(title="Instance ID", ge=1)
    instance_name: str | None = Field(default=None, title="Instance name", min_length=1, max_length=50)
    armor_class: int | None = Field(default=None, title="Armor class", ge=-10, le=20)
    dexterity: int | None = Field(default=None, title="Dexterity", ge=3, le=18)

    @model_validator(mode="after")
    def _no_nulls(self) -> InstanceChange:
        # Only dexterity may be cleared with null; every other field given must have a value.
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None and f != "dexterity")
        if nulls:
            raise Invalid({field: "May not be null" for field in nulls})
        return self


class HitPointChange(Body):
    instance_id: int = Field(title="Instance ID", ge=1)
    damage: int = Field(default=0, title="Damage", ge=0, le=MAX_HP)
    healing: int = Field(default=0, title="Healing", ge=0, le=MAX_HP)

    @model_validator(mode="after")
    def _something_changes(self) -> HitPointChange:
        if self.damage == 0 and self.healing == 0:
            raise Invalid({"damage": "Give damage or healing greater than 0"})
        return self


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
    fields = body.model_dump(exclude={"monster_id", "session_id"})
    result = await monster_instances.create(
        services(request).event_log, login.user, body.session_id, body.monster_id, fields
    )
    return success(result, "Monster instance(s) created successfully")


async def update_instance(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, InstanceChange)
    fields = body.model_dump(include=body.model_fields_set - {"instance_id"})
    result = await monster_instances.update(services(request).event_log, login.user, body.instance_id, fields)
    return success(result, "Monster instance updated successfully")


async def update_hp(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, HitPointChange)
    result = await monster_instances.update_hp(
        services(request).event_log, login.user, body.instance_id, body.damage, body.healing
    )
    return success(result, "HP updated successfully")


async def list_instances(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, SessionPage)
    instances, total, _ = await monster_instances.for_session(
        services(request).db, login.user, params.session_id, params.limit, params.offset
    )
    return success({"instances": instances, "pagination": pagination(params, total)})
