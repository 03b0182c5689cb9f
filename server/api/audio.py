"""/api/audio/control.php: the DM's music controls."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server import audio
from server.api.envelope import success
from server.api.requests import Body, authenticated, json_body
from server.errors import Invalid
from server.services import services

TrackUrl = Annotated[str, StringConstraints(max_length=500, pattern=r"^(https?://|/)\S*$")]


class AudioControl(Body):
    session_id: int = Field(title="Session ID", ge=1)
    action: Literal["play", "pause", "stop", "volume", "loop"] = Field(title="Action")
    track_url: TrackUrl | None = Field(default=None, title="Track URL", description="an http(s) URL or a /path")
    track_name: str | None = Field(default=None, title="Track name", max_length=200)
    volume: int | None = Field(default=None, title="Volume", ge=0, le=100)
    loop: bool | None = Field(default=None, title="Loop")
    position: float | None = Field(default=None, title="Position", ge=0, le=86_400)

    @model_validator(mode="after")
    def _fields_for_action(self) -> AudioControl:
        if self.action == "volume" and self.volume is None:
            raise Invalid({"volume": "Volume is required for the volume action"})
        if self.action == "loop" and self.loop is None:
            raise Invalid({"loop": "Loop (true or false) is required for the loop action"})
        return self


async def control(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, AudioControl)
    fields = body.model_dump(exclude={"session_id", "action"})
    result = await audio.control(services(request).event_log, login.user, body.session_id, body.action, fields)
    return success(result, "Audio updated")
