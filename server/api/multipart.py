"""Streaming multipart uploads: one file part goes straight to an `IncomingImage` as it arrives, counted
on the way, and a few small text fields are collected beside it.

Starlette's `max_body_size` is not used for uploads because its 413 is plain text and replaces any answer
(a 401 too) once Content-Length is over the limit; the same counting is done here so that every answer
stays in the API envelope.
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from server.errors import BadRequest, Invalid, TooLarge
from server.uploads import IncomingImage

# Room for the boundaries, part headers and the text fields around a file of the largest size.
MULTIPART_ALLOWANCE = 64 * 1024


class UploadForm:
    """Callbacks for python-multipart's streaming parser: collects the file part's bytes for the caller
    to write out after each chunk, and the small text fields named in `fields` (name -> (most bytes,
    the error when longer)). Other parts are skipped."""

    def __init__(self, file_field: str, fields: dict[str, tuple[int, str]]) -> None:
        self.file_field = file_field.encode()
        self.fields = fields
        self.file_name: str | None = None
        self.file_done = False
        self.texts: dict[str, bytes] = {}
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
        name = options.get(b"name") or b""
        if name == self.file_field and b"filename" in options:
            if self.file_name is not None:
                raise BadRequest("Send one file per upload")
            self.file_name = options[b"filename"].decode("utf-8", "replace")
            self._target = ""
        elif name.decode("utf-8", "replace") in self.fields:
            self._target = name.decode()
            self.texts[self._target] = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "":
            self.pending.append(data[start:end])
        elif self._target is not None:
            self.texts[self._target] += data[start:end]
            limit, message = self.fields[self._target]
            if len(self.texts[self._target]) > limit:
                raise Invalid({self._target: message})

    def _part_end(self) -> None:
        if self._target == "":
            self.file_done = True
        self._target = None

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data

    def text(self, name: str) -> str | None:
        """A text field as sent (stripped), or None when it was absent or blank."""
        value = self.texts.get(name, b"").decode("utf-8", "replace").strip()
        return value or None


def _boundary(request: Request, file_field: str) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadRequest(f"Send the image as multipart/form-data with a `{file_field}` field")
    return boundary


async def receive(request: Request, form: UploadForm, image: IncomingImage) -> None:
    """Read the whole multipart body into `form` and `image`; 413 (before a byte is read when
    Content-Length says so) past the image's limit plus MULTIPART_ALLOWANCE."""
    most = image.max_bytes + MULTIPART_ALLOWANCE
    too_large = f"The image is larger than {image.max_bytes // (1024 * 1024)} MB"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > most:
        raise TooLarge(too_large)
    file_field = form.file_field.decode()
    parser = MultipartParser(_boundary(request, file_field), form.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise TooLarge(too_large)
            parser.write(chunk)
            await image.write(form.take())
        parser.finalize()
    except MultipartParseError:
        raise BadRequest("The multipart body is malformed") from None
    if form.file_name is None or not form.file_done:
        raise Invalid({file_field: f"{file_field.capitalize()} is required"})
