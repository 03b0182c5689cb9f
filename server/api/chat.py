"""/api/chat/*: messages and whispers at the table (server/chat.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server import chat
from server.api.envelope import success
from server.api.pagination import HistoryQuery
from server.api.requests import MAX_INTEGER, Body, authenticated, json_body, query
from server.services import services

MAX_RECIPIENTS = 20
UserId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]


class Message(Body):
    session_id: int = Field(title="Session ID", ge=1)
    text: str = Field(title="Text", min_length=1, max_length=chat.MAX_TEXT)
    to: list[UserId] | None = Field(default=None, title="To", max_length=MAX_RECIPIENTS)
    as_character_id: int | None = Field(default=None, title="As character ID", ge=1)


class MessageRef(Body):
    session_id: int = Field(title="Session ID", ge=1)
    message_id: int = Field(title="Message ID", ge=1)


async def send(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, Message)
    state = services(request)
    result = await chat.send(
        state.event_log, state.send_rate, login.user, body.session_id, body.text, body.to, body.as_character_id
    )
    return success(result, "Message sent")


async def delete(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MessageRef)
    result = await chat.delete(services(request).event_log, login.user, body.session_id, body.message_id)
    return success(result, "Message deleted")


async def history(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, HistoryQuery)
    result = await chat.history(
        services(request).event_log, login.user, params.session_id, params.before_id, params.limit
    )
    return success(result)
