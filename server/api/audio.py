"""/api/audio/control.php: the DM's music controls."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from server import audio
from server.api.envelope import success
from server.api.requests import Body, authenticated, json_body
from server.services import services

TrackUrl = Annotated[str, StringConstraints(max_length=500, pattern=r"^(https?://|/)\S*$")]


class AudioControl(Body):
    session_id: int = Field(title="Session ID", ge=1)
    action: audio.Action = Field(title="Action")
    track_url: TrackUrl | None = Field(default=None, title="Track URL", description="an http(s) URL or a /path")
    track_name: str | None = Field(default=None, title="Track name", max_length=200)
    volume: int | None = Field(default=None, title="Volume", ge=0, le=audio.MAX_VOLUME)
    loop: bool | None = Field(default=None, title="Loop")
    position: float | None = Field(default=None, title="Position", ge=0, le=audio.MAX_POSITION)

    def value(self) -> audio.AudioChange:
        return audio.AudioChange(self.action, self.track_url, self.track_name, self.volume, self.loop, self.position)


async def control(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, AudioControl)
    result = await audio.control(services(request).event_log, login.user, body.session_id, body.value())
    return success(result, "Audio updated")
