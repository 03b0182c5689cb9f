"""Forum images on disk: the type is decided from the file's first bytes, the size limit is enforced while
the bytes arrive, and the file appears under its final name only once it is complete and accepted
(temporary file, fsync, rename), so a refused or broken upload leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from typing_extensions import TypedDict

from server import clock
from server.accounts import User
from server.database import Database
from server.errors import Invalid, NotFound, TooLarge

MAX_IMAGE_BYTES = 5 * 1024 * 1024
FORUM_FOLDER = "forum"
URL_PREFIX = "/images/forum/"
# Every stored name is ours: random hex and the extension of the detected type. Nothing else is served.
STORED_NAME = re.compile(r"^[0-9a-f]+\.(jpg|png|gif|webp)$")
_SNIFF_BYTES = 12  # the longest signature below (WebP) needs 12


@dataclass(frozen=True)
class ImageType:
    label: str
    extension: str  # the extension it is stored under
    content_type: str
    accepted_extensions: tuple[str, ...]  # the extensions an uploaded file of this type may carry


JPEG = ImageType("JPEG", "jpg", "image/jpeg", (".jpg", ".jpeg"))
PNG = ImageType("PNG", "png", "image/png", (".png",))
GIF = ImageType("GIF", "gif", "image/gif", (".gif",))
WEBP = ImageType("WebP", "webp", "image/webp", (".webp",))
IMAGE_TYPES = (JPEG, PNG, GIF, WEBP)
_BY_STORED_EXTENSION = {image_type.extension: image_type for image_type in IMAGE_TYPES}
_BY_UPLOADED_EXTENSION = {ext: image_type for image_type in IMAGE_TYPES for ext in image_type.accepted_extensions}


def detect(head: bytes) -> ImageType | None:
    """The image type by its magic number, or None; the file name and the declared type are not trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def not_an_image(types: tuple[ImageType, ...] = IMAGE_TYPES, field: str = "file") -> Invalid:
    labels = [image_type.label for image_type in types]
    return Invalid({field: f"The file is not a {', '.join(labels[:-1])} or {labels[-1]} image"})


def forum_dir(upload_dir: Path) -> Path:
    return upload_dir / FORUM_FOLDER


class IncomingImage:
    """One uploaded file being received into a temporary file in `directory`: at most `max_bytes`, of
    one of `types` (by its first bytes)."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int = MAX_IMAGE_BYTES,
        types: tuple[ImageType, ...] = IMAGE_TYPES,
        field: str = "file",
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.types = types
        self.field = field  # the form field named in errors
        self.size = 0
        self.head = b""
        self.temp_path: Path | None = None
        self._file: Any = None

    async def write(self, data: bytes) -> None:
        """Append bytes; refuses (TooLarge) past max_bytes and (Invalid) as soon as the first bytes
        show that the file is no image of the accepted types, so neither a huge nor a disguised file is
        written out."""
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            raise TooLarge(f"The image is larger than {self.max_bytes // (1024 * 1024)} MB")
        if len(self.head) < _SNIFF_BYTES:
            self.head += data[: _SNIFF_BYTES - len(self.head)]
            if len(self.head) >= _SNIFF_BYTES and self.image_type() is None:
                raise not_an_image(self.types, self.field)
        if self._file is None:
            self._file = await asyncio.to_thread(self._open)
        await asyncio.to_thread(self._file.write, data)

    def image_type(self) -> ImageType | None:
        """The accepted type the first bytes show, or None."""
        found = detect(self.head)
        return found if found in self.types else None

    def _open(self) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".incoming-", suffix=".part", dir=self.directory)
        self.temp_path = Path(name)
        return os.fdopen(handle, "wb")

    def finish(self) -> None:
        """Flush the temporary file to disk before it is renamed into place."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def discard(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self.temp_path is not None:
            self.temp_path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def receiving(image: IncomingImage) -> AsyncIterator[IncomingImage]:
    """`image`, whose temporary file is removed on the way out, whatever happened."""
    try:
        yield image
    finally:
        await asyncio.to_thread(image.discard)


def _uploaded_extension(original_name: str) -> str:
    # Only the extension of the client's file name is used; its directories (../../) are ignored.
    return PurePosixPath(original_name.replace("\\", "/")).suffix.lower()


class StoredImage(TypedDict):
    url: str  # where the image is served
    filename: str


async def store_forum_image(
    db: Database, user: User, image: IncomingImage, original_name: str, post_id: int | None
) -> StoredImage:
    """Accept the received file if its bytes are an image whose type matches its extension, move it to a
    random name, and record it in forum_images."""
    if image.size == 0 or image.temp_path is None:
        raise Invalid({"file": "The file is empty"})
    image_type = detect(image.head)
    if image_type is None:
        raise not_an_image()
    extension = _uploaded_extension(original_name)
    claimed = _BY_UPLOADED_EXTENSION.get(extension)
    if claimed is None:
        raise Invalid({"file": "Only .jpg, .jpeg, .png, .gif and .webp files are accepted"})
    if claimed is not image_type:
        raise Invalid({"file": f"The file is a {image_type.label} image but its name ends in {extension}"})
    await asyncio.to_thread(image.finish)
    stored_name = f"{secrets.token_hex(16)}.{image_type.extension}"
    final_path = image.directory / stored_name
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO forum_images (user_id, post_id, stored_name, content_type, size_bytes, created_at) "
                "VALUES (:uid, :post_id, :name, :type, :size, :now)",
                {
                    "uid": user.user_id,
                    "post_id": post_id,
                    "name": stored_name,
                    "type": image_type.content_type,
                    "size": image.size,
                    "now": clock.now_text(),
                },
            )
            await asyncio.to_thread(os.replace, image.temp_path, final_path)
    except BaseException:
        await asyncio.to_thread(final_path.unlink, missing_ok=True)
        raise
    return {"url": URL_PREFIX + stored_name, "filename": stored_name}


async def stored_file(
    folder: Path, name: str, pattern: re.Pattern[str], content_types: Mapping[str, str], missing: str
) -> tuple[Path, str]:
    """A file we stored in `folder` and its Content-Type; NotFound(missing) for a name we never hand out
    (`pattern`'s first group is the extension) or a file that is gone."""
    match = pattern.match(name)
    path = folder / name
    if match is None or not await asyncio.to_thread(path.is_file):
        raise NotFound(missing)
    return path, content_types[match.group(1)]


async def forum_image(upload_dir: Path, name: str) -> tuple[Path, str]:
    content_types = {extension: image_type.content_type for extension, image_type in _BY_STORED_EXTENSION.items()}
    return await stored_file(forum_dir(upload_dir), name, STORED_NAME, content_types, "Image not found")
