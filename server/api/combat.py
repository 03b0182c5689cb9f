"""/api/combat/*: the initiative tracker (field names are the legacy client's), and the DM dashboard."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server import dm_dashboard, initiative
from server.api.envelope import success
from server.api.requests import SessionRef, authenticated, json_body, query
from server.services import services


class CharacterEntry(SessionRef):
    character_id: int = Field(title="Character ID", ge=1)


class MonsterEntry(SessionRef):
    monster_instance_id: int = Field(title="Monster instance ID", ge=1)


class Roll(SessionRef):
    mode: initiative.Mode = Field(default="individual", title="Mode")


class EntryRef(SessionRef):
    initiative_id: int = Field(title="Initiative ID", ge=1)


async def add_character(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, CharacterEntry)
    result = await initiative.add_character(services(request).event_log, login.user, body.session_id, body.character_id)
    return success(result, "Character added to initiative tracker")


async def add_monster(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MonsterEntry)
    result = await initiative.add_monster(
        services(request).event_log, login.user, body.session_id, body.monster_instance_id
    )
    return success(result, "Monster added to initiative tracker")


async def roll_initiative(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, Roll)
    result = await initiative.roll(services(request).event_log, login.user, body.session_id, body.mode)
    return success(result, "Initiative rolled")


async def next_turn(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, SessionRef)
    result = await initiative.next_turn(services(request).event_log, login.user, body.session_id)
    return success(result, "Turn advanced")


async def get_initiative(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, SessionRef)
    return success(await initiative.get(services(request).event_log, login.user, params.session_id))


async def remove_character(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, EntryRef)
    result = await initiative.remove(
        services(request).event_log, login.user, body.session_id, body.initiative_id, "character"
    )
    return success(result, "Character removed from initiative tracker")


async def remove_monster(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, EntryRef)
    result = await initiative.remove(
        services(request).event_log, login.user, body.session_id, body.initiative_id, "monster"
    )
    return success(result, "Monster removed from initiative tracker")


async def clear_initiative(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, SessionRef)
    result = await initiative.clear(services(request).event_log, login.user, body.session_id)
    return success(result, "Initiative tracker cleared")


async def get_dm_dashboard(request: Request) -> Response:
    """/api/session/get-dm-dashboard.php: the DM's screen for a game session (the tracker included)."""
    login = await authenticated(request)
    params = query(request, SessionRef)
    return success(await dm_dashboard.dashboard(services(request).db, login.user, params.session_id))
