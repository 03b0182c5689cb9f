"""/v1/assets: upload (multipart `file`, `type`, `name`), list with filters, get, delete; and
GET /assets/<sha256>.<ext> that serves the bytes."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from typing_extensions import TypedDict

from server import assets, uploads
from server.api import multipart
from server.api.multipart import UploadForm
from server.api.pagination import PageQuery, Pagination
from server.api.requests import authenticated, query
from server.api.v1.paths import path_id
from server.api.v1.responses import created, listing, no_content, ok
from server.errors import Invalid
from server.services import services
from server.settings import Settings

TYPE_MESSAGE = f"Type must be one of: {', '.join(assets.ASSET_TYPES)}"
MAX_NAME = 100
NAME_MESSAGE = f"Name must be at most {MAX_NAME} characters"
SERVED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; media-src 'self'",
    "Cache-Control": "public, max-age=31536000, immutable",
}


class AssetQuery(PageQuery):
    type: Literal["map", "token", "portrait", "handout", "audio"] | None = Field(default=None, title="Type")
    search: str | None = Field(default=None, title="Search", min_length=1, max_length=100)


class AssetPage(TypedDict):
    object: Literal["list"]
    data: list[assets.Asset]  # newest first
    pagination: Pagination


def _asset_type(form: UploadForm) -> str:
    value = form.text("type")
    if value is None:
        raise Invalid({"type": TYPE_MESSAGE}, codes={"type": "required"})
    if value not in assets.ASSET_TYPES:
        raise Invalid({"type": TYPE_MESSAGE}, codes={"type": "invalid_choice"})
    return value


def _name(form: UploadForm) -> str:
    name = form.text("name") or PurePosixPath((form.file_name or "").replace("\\", "/")).stem.strip() or "Untitled"
    if len(name) > MAX_NAME:
        raise Invalid({"name": NAME_MESSAGE}, codes={"name": "too_long"})
    return name


async def upload(request: Request) -> Response:
    caller = await authenticated(request)
    settings: Settings = services(request).settings
    form = UploadForm("file", {"type": (20, TYPE_MESSAGE), "name": (4 * MAX_NAME, NAME_MESSAGE)})
    incoming = assets.IncomingAsset(settings.upload_dir, lambda: form.text("type"))
    async with uploads.receiving(incoming):
        await multipart.receive(request, form, incoming)
        asset = await assets.store(
            services(request).db, caller.user, caller.plan, incoming, _asset_type(form), _name(form)
        )
    return created(asset, f"/v1/assets/{asset['id']}")


async def list_assets(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, AssetQuery)
    found, total = await assets.list_for(
        services(request).db, caller.user, params.type, params.search, params.limit, params.offset
    )
    return listing(found, params, total)


async def get(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await assets.get(services(request).db, caller.user, path_id(request, "asset_id")))


async def delete(request: Request) -> Response:
    caller = await authenticated(request)
    settings: Settings = services(request).settings
    await assets.delete(services(request).db, settings.upload_dir, caller.user, path_id(request, "asset_id"))
    return no_content()


async def serve(request: Request) -> Response:
    settings: Settings = services(request).settings
    path, content_type = await assets.stored_file(settings.upload_dir, request.path_params["name"])
    return FileResponse(path, media_type=content_type, headers=SERVED_HEADERS)
