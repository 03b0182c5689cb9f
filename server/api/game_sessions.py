"""/api/session/*: game sessions and their players."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import game_sessions
from server.api.envelope import success
from server.api.pagination import PageQuery, Pagination, pagination
from server.api.requests import Body, SessionRef, authenticated, json_body, query
from server.services import services


class GameSessionPage(TypedDict):
    sessions: list[game_sessions.ListedSession]  # those you run, play in or are invited to
    pagination: Pagination


DateTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]
Link = Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")]


class NewSession(Body):
    session_title: str = Field(title="Session title", min_length=1, max_length=100)
    session_description: str | None = Field(default=None, title="Session description", max_length=5000)
    session_datetime: DateTime = Field(title="Session date and time", description="a date as YYYY-MM-DD HH:MM:SS")
    duration_minutes: int = Field(
        default=180, title="Duration", ge=game_sessions.MIN_DURATION, le=game_sessions.MAX_DURATION
    )
    max_players: int = Field(default=6, title="Max players", ge=1, le=game_sessions.MAX_PLAYERS)
    campaign_id: int | None = Field(default=None, title="Campaign ID", ge=1)
    meet_link: Link | None = Field(default=None, title="Meet link", description="an http(s) URL")

    @field_validator("session_datetime", mode="after")
    @classmethod
    def _a_real_moment(cls, value: str) -> str:
        # The pattern lets through February 30th, month 13, hour 25 and year 0000.
        try:
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValueError("Session date and time must be a real date and time as YYYY-MM-DD HH:MM:SS") from None
        return value

    def value(self) -> game_sessions.NewGameSession:
        return game_sessions.NewGameSession(**self.model_dump())


class Invitation(Body):
    session_id: int = Field(title="Session ID", ge=1)
    username: str = Field(title="Username", min_length=1, max_length=50)


class PlayerRef(Body):
    session_id: int = Field(title="Session ID", ge=1)
    user_id: int = Field(title="User ID", ge=1)


async def create(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewSession)
    result = await game_sessions.create(services(request).event_log, login.user, body.value())
    return success(result, "Session created successfully")


async def invite_player(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, Invitation)
    found = services(request)
    result = await game_sessions.invite_player(
        found.event_log, login.user, body.session_id, body.username, found.mailer
    )
    return success(result, "Player invited successfully")


async def accept_invitation(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, SessionRef)
    result = await game_sessions.accept_invitation(services(request).event_log, login.user, body.session_id)
    return success(result, "Invitation accepted")


async def list_sessions(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, PageQuery)
    sessions, total = await game_sessions.list_for(services(request).db, login.user, params.limit, params.offset)
    return success({"sessions": sessions, "pagination": pagination(params, total)})


async def remove_player(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, PlayerRef)
    result = await game_sessions.remove_player(services(request).event_log, login.user, body.session_id, body.user_id)
    return success(result, "Player removed from the session")


async def start(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, SessionRef)
    result = await game_sessions.change_status(services(request).event_log, login.user, body.session_id, "start")
    return success(result, "Session started")


async def end(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, SessionRef)
    result = await game_sessions.change_status(services(request).event_log, login.user, body.session_id, "end")
    return success(result, "Session ended")
