"""/api/forum/*: forum image upload, and GET /images/forum/{name} that serves the images back.

The upload is read as it arrives: the multipart body is parsed chunk by chunk and the file's bytes go
straight to a temporary file, counted on the way. Starlette's `max_body_size` is not used for this route
because its 413 is plain text and replaces any answer (a 401 too) once Content-Length is over the limit;
the same counting is done here so that every answer stays in the API envelope.
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server import uploads
from server.api.envelope import success
from server.api.requests import authenticated
from server.errors import BadRequest, Invalid, NotFound, TooLarge
from server.services import services
from server.settings import Settings

# Room for the boundaries, part headers and the post_id field around a file of the largest size.
MULTIPART_ALLOWANCE = 64 * 1024
MAX_REQUEST_BYTES = uploads.MAX_IMAGE_BYTES + MULTIPART_ALLOWANCE
MAX_FIELD_BYTES = 20
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "public, max-age=31536000, immutable",
}


class UploadForm:
    """Callbacks for python-multipart's streaming parser: collects the `file` part's bytes for the caller
    to write out after each chunk, and the small `post_id` field. Other fields are skipped."""

    def __init__(self) -> None:
        self.file_name: str | None = None
        self.file_done = False
        self.post_id_text: bytes | None = None
        self.pending: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._target: str | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._target = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name == b"file" and b"filename" in options:
            if self.file_name is not None:
                raise BadRequest("Send one file per upload")
            self.file_name = options[b"filename"].decode("utf-8", "replace")
            self._target = "file"
        elif name == b"post_id":
            self.post_id_text = b""
            self._target = "post_id"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "file":
            self.pending.append(data[start:end])
        elif self._target == "post_id" and self.post_id_text is not None:
            self.post_id_text += data[start:end]
            if len(self.post_id_text) > MAX_FIELD_BYTES:
                raise Invalid({"post_id": "Post ID must be a positive whole number"})

    def _part_end(self) -> None:
        if self._target == "file":
            self.file_done = True
        self._target = None

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data

    def post_id(self) -> int | None:
        if self.post_id_text is None or not self.post_id_text.strip():
            return None
        text = self.post_id_text.strip()
        if not text.isdigit() or int(text) < 1:
            raise Invalid({"post_id": "Post ID must be a positive whole number"})
        return int(text)


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadRequest("Send the image as multipart/form-data with a `file` field")
    return boundary


def _declared_length(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise TooLarge(f"The image is larger than {uploads.MAX_IMAGE_BYTES // (1024 * 1024)} MB")


async def upload_image(request: Request) -> Response:
    login = await authenticated(request)
    settings: Settings = services(request).settings
    _declared_length(request)  # refused before a byte of the body is read
    form = UploadForm()
    parser = MultipartParser(_boundary(request), form.callbacks())  # type: ignore[arg-type]
    received = 0
    async with uploads.receiving(settings.upload_dir) as image:
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > MAX_REQUEST_BYTES:
                    raise TooLarge(f"The image is larger than {uploads.MAX_IMAGE_BYTES // (1024 * 1024)} MB")
                parser.write(chunk)
                await image.write(form.take())
            parser.finalize()
        except MultipartParseError:
            raise BadRequest("The multipart body is malformed") from None
        if form.file_name is None or not form.file_done:
            raise Invalid({"file": "File is required"})
        result = await uploads.store_forum_image(
            services(request).db, login.user, image, form.file_name, form.post_id()
        )
    return success(result, "Image uploaded successfully")


async def serve_image(request: Request) -> Response:
    settings: Settings = services(request).settings
    found = await uploads.forum_image(settings.upload_dir, request.path_params["name"])
    if found is None:
        raise NotFound("Image not found")
    path, content_type = found
    return FileResponse(path, media_type=content_type, headers=IMAGE_HEADERS)
