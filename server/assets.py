"""Assets: the files a table uses (maps, tokens, portraits, handouts, audio).

The kind of a file is decided from its first bytes, never from its name or declared type: the four
image formats for every image type, MP3/Ogg/WAV/FLAC for audio. Each type has its own size limit,
enforced while the file streams in; the owner's plan bounds the total size and the number of assets.
A file is stored once under its content hash (UPLOAD_DIR/assets/<sha256>.<ext>) and served from
/assets/<sha256>.<ext>, public and cacheable for ever: the URL changes whenever the bytes do, and
cannot be guessed without the bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from typing_extensions import TypedDict

from server import accounts, clock, uploads
from server.accounts import User
from server.database import Database
from server.errors import Invalid, NotFound, SubscriptionRequired, TooLarge
from server.plans import MIB, Plan

AssetType = Literal["map", "token", "portrait", "handout", "audio"]
ASSET_TYPES: tuple[AssetType, ...] = ("map", "token", "portrait", "handout", "audio")
MAX_BYTES: dict[str, int] = {
    "map": 20 * MIB,
    "token": 2 * MIB,
    "portrait": 5 * MIB,
    "handout": 10 * MIB,
    "audio": 50 * MIB,
}
LARGEST = max(MAX_BYTES.values())
ASSET_FOLDER = "assets"
URL_PREFIX = "/assets/"
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|gif|webp|mp3|ogg|wav|flac)$")
_COLUMNS = "asset_id, asset_type, name, content_type, size_bytes, stored_name, created_at"


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    audio: bool


_IMAGE_KINDS = {image.extension: FileKind(image.extension, image.content_type, False) for image in uploads.IMAGE_TYPES}
MP3 = FileKind("mp3", "audio/mpeg", True)
OGG = FileKind("ogg", "audio/ogg", True)
WAV = FileKind("wav", "audio/wav", True)
FLAC = FileKind("flac", "audio/flac", True)
_BY_EXTENSION = {**_IMAGE_KINDS, "mp3": MP3, "ogg": OGG, "wav": WAV, "flac": FLAC}


def sniff(head: bytes) -> FileKind | None:
    """The kind of file by its first 12 bytes, or None."""
    image = uploads.detect(head)
    if image is not None:
        return _IMAGE_KINDS[image.extension]
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3  # an ID3 tag, or an MPEG audio frame's sync bits
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"fLaC"):
        return FLAC
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    return None


class IncomingAsset(uploads.IncomingImage):
    """An upload being received: audio is accepted too, and as soon as the form names the asset's type
    (`type` before `file`), that type's size limit and kinds apply while the bytes stream in; sent after
    the file, they apply when it is stored."""

    def __init__(self, upload_dir: Path, type_field: Callable[[], str | None]) -> None:
        super().__init__(asset_dir(upload_dir), LARGEST)
        self.asset_type: str | None = None
        self._type_field = type_field

    async def write(self, data: bytes) -> None:
        named = self._type_field()
        if self.asset_type is None and named in MAX_BYTES:
            self.asset_type = named
            self.max_bytes = MAX_BYTES[named]
        try:
            await super().write(data)
        except Invalid:
            raise _unsupported(self.asset_type) from None

    def image_type(self) -> uploads.ImageType | None:
        # IncomingImage.write refuses the file when this is None: here, when its kind does not fit.
        return uploads.PNG if fits(self.asset_type, sniff(self.head)) else None


def _unsupported(asset_type: str | None) -> Invalid:
    wanted = {"audio": "audio (MP3, Ogg, WAV, FLAC)", None: "an image or audio"}.get(
        asset_type, "an image (JPEG, PNG, GIF, WebP)"
    )
    return Invalid({"file": f"A {asset_type or 'file'} must be {wanted}"}, codes={"file": "unsupported_type"})


def fits(asset_type: str | None, kind: FileKind | None) -> bool:
    """Whether a file of `kind` may be an asset of `asset_type` (any type while it is not known yet)."""
    if kind is None:
        return False
    if asset_type is None:
        return True
    return kind.audio == (asset_type == "audio")


def describe_limit(size: int) -> str:
    return f"{size // MIB} MB"


def asset_dir(upload_dir: Path) -> Path:
    return upload_dir / ASSET_FOLDER


class Asset(TypedDict):
    id: int
    object: Literal["asset"]
    type: AssetType
    name: str
    content_type: str  # from the file's first bytes, never from its name
    size_bytes: int
    content_hash: str  # "sha256:" and the hex digest
    url: str  # /assets/<sha256>.<ext>: public, cacheable for ever
    created_at: str


def _public(row: dict[str, Any]) -> Asset:
    stored = row["stored_name"]
    return {
        "id": row["asset_id"],
        "object": "asset",
        "type": row["asset_type"],
        "name": row["name"],
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "content_hash": "sha256:" + stored.split(".")[0],
        "url": URL_PREFIX + stored,
        "created_at": clock.iso(row["created_at"]),
    }


async def store(db: Database, user: User, plan: Plan, incoming: IncomingAsset, asset_type: str, name: str) -> Asset:
    """Accept the received file as an asset of `asset_type` if its bytes fit the type and its size the
    type's limit and the plan's quota; it lands under its content hash, shared with identical files."""
    kind = sniff(incoming.head)
    if incoming.size == 0 or incoming.temp_path is None:
        raise Invalid({"file": "The file is empty"}, codes={"file": "empty"})
    if not fits(asset_type, kind):
        raise _unsupported(asset_type)
    assert kind is not None
    if incoming.size > MAX_BYTES[asset_type]:
        raise TooLarge(f"A {asset_type} may be at most {describe_limit(MAX_BYTES[asset_type])}")
    await asyncio.to_thread(incoming.finish)
    digest = await asyncio.to_thread(_sha256, incoming.temp_path)
    stored_name = f"{digest}.{kind.extension}"
    final_path = incoming.directory / stored_name
    async with db.transaction() as tx:
        await accounts.hold(tx, user)
        usage = await tx.fetch_one(
            "SELECT count(*) AS count, COALESCE(sum(size_bytes), 0) AS used FROM assets WHERE user_id = :uid",
            {"uid": user.user_id},
        )
        assert usage is not None
        if usage["count"] >= plan.assets:
            raise SubscriptionRequired(f"The {plan.name} plan allows {plan.assets} assets; delete some first")
        if usage["used"] + incoming.size > plan.storage_bytes:
            raise SubscriptionRequired(
                f"The {plan.name} plan allows {describe_limit(plan.storage_bytes)} of assets; "
                f"{describe_limit(int(usage['used']))} are used"
            )
        row = await tx.fetch_one(
            "INSERT INTO assets (user_id, asset_type, name, content_type, size_bytes, stored_name, created_at) "
            f"VALUES (:uid, :type, :name, :content_type, :size, :stored, :now) RETURNING {_COLUMNS}",
            {
                "uid": user.user_id,
                "type": asset_type,
                "name": name,
                "content_type": kind.content_type,
                "size": incoming.size,
                "stored": stored_name,
                "now": clock.now_text(),
            },
        )
        # Same bytes, same name: replacing an identical file changes nothing for anyone serving it.
        await asyncio.to_thread(os.replace, incoming.temp_path, final_path)
    assert row is not None
    return _public(row)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stored:
        for block in iter(lambda: stored.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


async def get(db: Database, user: User, asset_id: int) -> Asset:
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM assets WHERE asset_id = :id AND user_id = :uid", {"id": asset_id, "uid": user.user_id}
    )
    if row is None:
        raise NotFound("Asset not found")
    return _public(row)


async def list_for(
    db: Database, user: User, asset_type: str | None, search: str | None, limit: int, offset: int
) -> tuple[list[Asset], int]:
    """The user's assets, newest first, of one type and/or whose name contains `search` (any case)."""
    where = "user_id = :uid"
    values: dict[str, Any] = {"uid": user.user_id}
    if asset_type is not None:
        where += " AND asset_type = :type"
        values["type"] = asset_type
    if search is not None:
        where += " AND lower(name) LIKE :search ESCAPE '\\'"
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        values["search"] = f"%{escaped}%"
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM assets WHERE {where} ORDER BY asset_id DESC LIMIT :limit OFFSET :offset",
        {**values, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val(f"SELECT count(*) FROM assets WHERE {where}", values)
    return [_public(row) for row in rows], total


async def _forget(db: Database, upload_dir: Path, where: str, values: dict[str, Any]) -> int:
    """Delete the asset rows matched, and each file no remaining asset uses. Returns how many rows."""
    async with db.transaction() as tx:
        rows = await tx.fetch_all(f"SELECT asset_id, stored_name FROM assets WHERE {where}", values)
        ids = [row["asset_id"] for row in rows]
        for asset_id in ids:
            await tx.execute(
                "UPDATE user_profiles SET avatar_asset_id = NULL WHERE avatar_asset_id = :id", {"id": asset_id}
            )
            await tx.execute("DELETE FROM assets WHERE asset_id = :id", {"id": asset_id})
        for stored in {row["stored_name"] for row in rows}:
            if not await tx.fetch_val("SELECT count(*) FROM assets WHERE stored_name = :s", {"s": stored}):
                await asyncio.to_thread((asset_dir(upload_dir) / stored).unlink, missing_ok=True)
    return len(ids)


async def delete(db: Database, upload_dir: Path, user: User, asset_id: int) -> None:
    if not await _forget(db, upload_dir, "asset_id = :id AND user_id = :uid", {"id": asset_id, "uid": user.user_id}):
        raise NotFound("Asset not found")


async def delete_all(db: Database, upload_dir: Path, user: User) -> None:
    await _forget(db, upload_dir, "user_id = :uid", {"uid": user.user_id})


async def stored_file(upload_dir: Path, name: str) -> tuple[Path, str]:
    content_types = {extension: kind.content_type for extension, kind in _BY_EXTENSION.items()}
    return await uploads.stored_file(asset_dir(upload_dir), name, STORED_NAME, content_types, "Asset not found")
