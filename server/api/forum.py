"""/api/forum/*: forum image upload, and GET /images/forum/{name} that serves the images back.

The upload is read as it arrives (server/api/multipart.py): the file's bytes go straight to a temporary
file, counted on the way.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server import uploads
from server.api import multipart
from server.api.envelope import success
from server.api.requests import authenticated
from server.database import MAX_INTEGER
from server.errors import Invalid
from server.services import services
from server.settings import Settings

MAX_FIELD_BYTES = 20
POST_ID_ERROR = f"Post ID must be a whole number from 1 to {MAX_INTEGER}"
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "public, max-age=31536000, immutable",
}


def _post_id(form: multipart.UploadForm) -> int | None:
    text = form.text("post_id")
    if text is None:
        return None
    # ASCII digits only (str.isdigit also takes "²"), within the INTEGER column: beyond it is a 500 on PostgreSQL.
    if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= MAX_INTEGER:
        raise Invalid({"post_id": POST_ID_ERROR})
    return int(text)


async def upload_image(request: Request) -> Response:
    login = await authenticated(request)
    settings: Settings = services(request).settings
    form = multipart.UploadForm("file", {"post_id": (MAX_FIELD_BYTES, POST_ID_ERROR)})
    async with uploads.receiving(uploads.IncomingImage(uploads.forum_dir(settings.upload_dir))) as image:
        await multipart.receive(request, form, image)
        result = await uploads.store_forum_image(
            services(request).db, login.user, image, form.file_name or "", _post_id(form)
        )
    return success(result, "Image uploaded successfully")


async def serve_image(request: Request) -> Response:
    settings: Settings = services(request).settings
    path, content_type = await uploads.forum_image(settings.upload_dir, request.path_params["name"])
    return FileResponse(path, media_type=content_type, headers=IMAGE_HEADERS)
