"""GET /api/realtime/poll.php: the long-poll transport's HTTP side (server/channels/longpoll.py)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server.api.envelope import success
from server.api.requests import Body, authenticated, query
from server.channels import hub as hubs
from server.channels import longpoll
from server.services import services


class PollQuery(Body):
    session_id: int = Field(title="Session ID", ge=1)
    last_event_id: int = Field(default=0, title="Last event ID", ge=0)
    timeout: float = Field(default=longpoll.MAX_TIMEOUT, title="Timeout", ge=0)


async def poll(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, PollQuery)
    answer = await longpoll.poll(
        hubs.of(services(request)),
        login.user,
        login.login_hash,
        params.session_id,
        params.last_event_id,
        params.timeout,
    )
    return success(answer)
