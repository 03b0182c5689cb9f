"""/api/session/maps/*: battle maps of a game session (upload, list, get, update, delete, image)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server import battle_maps, map_scene
from server.api import multipart
from server.api.envelope import success
from server.api.requests import Body, authenticated, from_text, json_body, query
from server.services import services
from server.settings import Settings

MAP_NAME_ERROR = "Map name must be between 1 and 100 characters"
SESSION_ID_ERROR = "Session ID must be a positive whole number"
# Private: only members may fetch a map, and a player only the active one; the file of a map_id never
# changes, so a browser may keep it for the evening.
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "private, max-age=3600",
}


class SessionRef(Body):
    session_id: int = Field(title="Session ID", ge=1)


class MapRef(Body):
    map_id: int = Field(title="Map ID", ge=1)


class NewMap(Body):
    session_id: int = Field(title="Session ID", ge=1)
    map_name: str = Field(title="Map name", min_length=1, max_length=100)


class MapChange(Body):
    map_id: int = Field(title="Map ID", ge=1)
    map_name: str | None = Field(default=None, title="Map name", min_length=1, max_length=100)
    grid_size: int | None = Field(
        default=None, title="Grid size", ge=battle_maps.MIN_GRID_SIZE, le=battle_maps.MAX_GRID_SIZE
    )
    grid_offset_x: int | None = Field(default=None, title="Grid offset x", ge=0, le=battle_maps.MAX_GRID_SIZE - 1)
    grid_offset_y: int | None = Field(default=None, title="Grid offset y", ge=0, le=battle_maps.MAX_GRID_SIZE - 1)
    is_active: bool | None = Field(default=None, title="Active")


async def upload(request: Request) -> Response:
    login = await authenticated(request)
    settings: Settings = services(request).settings
    form = multipart.UploadForm("image", {"session_id": (20, SESSION_ID_ERROR), "map_name": (400, MAP_NAME_ERROR)})
    async with battle_maps.receiving(settings.upload_dir) as image:
        await multipart.receive(request, form, image)
        texts = {name: form.text(name) for name in ("session_id", "map_name")}
        fields = from_text(NewMap, {name: text for name, text in texts.items() if text is not None})
        result = await battle_maps.store(
            services(request).event_log, login.user, fields.session_id, fields.map_name, image
        )
    return success(result, "Map uploaded successfully")


async def list_maps(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, SessionRef)
    return success({"maps": await battle_maps.list_maps(services(request).db, login.user, params.session_id)})


async def get_map(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, MapRef)
    return success(await map_scene.scene(services(request).db, login.user, params.map_id))


async def update(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MapChange)
    fields = body.model_dump(include=body.model_fields_set - {"map_id"}, exclude_none=True)
    result = await battle_maps.update(services(request).event_log, login.user, body.map_id, fields)
    return success(result, "Map updated successfully")


async def delete(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, MapRef) if "map_id" in request.query_params else await json_body(request, MapRef)
    settings: Settings = services(request).settings
    result = await battle_maps.delete(services(request).event_log, login.user, params.map_id, settings.upload_dir)
    return success(result, "Map deleted successfully")


async def image(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, MapRef)
    settings: Settings = services(request).settings
    path, content_type = await battle_maps.image(services(request).db, login.user, params.map_id, settings.upload_dir)
    return FileResponse(path, media_type=content_type, headers=IMAGE_HEADERS)
