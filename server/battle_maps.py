"""Battle maps of a game session: upload, grid, activation, deletion, and who may see which map.

Several maps per game session, at most one active. Players see only the active map (its image too); the
DM sees and edits all of them. Events: `map_refresh` {map} when a map is added or its name or grid
changes (to everyone when it is the active map, else to the DM), `map_activated` {map_id, map} when the
active map changes (map null: none is active), `map_deleted` {map_id}.

Positions are map pixels. The grid: squares of `grid_size` pixels whose lines start at
(grid_offset_x, grid_offset_y); the cell of a point is floor((x - offset) / size) on each axis.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from server import clock, map_images, uploads
from server.accounts import User
from server.database import Database, Row, Transaction
from server.errors import Conflict, Invalid, NotFound
from server.event_log import Audience, Change, EventLog
from server.game_sessions import Membership, require_dm, require_member

MAX_MAP_BYTES = 20 * 1024 * 1024
MAP_TYPES = (uploads.PNG, uploads.JPEG, uploads.WEBP)
MAX_MAPS_PER_SESSION = 50
MIN_GRID_SIZE = 10
MAX_GRID_SIZE = 1000
DEFAULT_GRID_SIZE = 50
# Every map's grid has at most this many cells, so its fog (one row per revealed cell) stays bounded.
MAX_GRID_CELLS = 40_000
MAPS_FOLDER = "maps"
MAP_COLUMNS = (
    "map_id, session_id, map_name, stored_name, content_type, size_bytes, width, height, grid_size, "
    "grid_offset_x, grid_offset_y, is_active, created_at, updated_at"
)


@dataclass(frozen=True)
class Grid:
    width: int
    height: int
    size: int
    offset_x: int
    offset_y: int

    @classmethod
    def of(cls, row: Row) -> Grid:
        return cls(row["width"], row["height"], row["grid_size"], row["grid_offset_x"], row["grid_offset_y"])

    @property
    def columns(self) -> range:
        """Every column a point of the map can fall in (the first is -1 when the grid is offset)."""
        return range(-1, math.ceil(self.width / self.size) + 1)

    @property
    def rows(self) -> range:
        return range(-1, math.ceil(self.height / self.size) + 1)

    @property
    def cell_count(self) -> int:
        return len(self.columns) * len(self.rows)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        return math.floor((x - self.offset_x) / self.size), math.floor((y - self.offset_y) / self.size)

    def contains(self, col: int, row: int) -> bool:
        return col in self.columns and row in self.rows


def maps_dir(upload_dir: Path) -> Path:
    return upload_dir / MAPS_FOLDER


def receiving(upload_dir: Path) -> contextlib.AbstractAsyncContextManager[uploads.IncomingImage]:
    """Where an uploaded map is received: 20 MB at most, PNG, JPEG or WebP by its first bytes; the
    temporary file is removed on the way out."""
    return uploads.receiving(uploads.IncomingImage(maps_dir(upload_dir), MAX_MAP_BYTES, MAP_TYPES, field="image"))


class BattleMap(TypedDict):
    map_id: int
    session_id: int
    map_name: str
    image_url: str  # GET it with the session cookie
    content_type: str
    size_bytes: int
    width: int
    height: int
    grid_size: int
    grid_offset_x: int
    grid_offset_y: int
    is_active: bool
    created_at: str
    updated_at: str


class MapList(TypedDict):
    maps: list[BattleMap]


class MapDeleted(TypedDict):
    map_id: int
    deleted: bool


def view(row: Row) -> BattleMap:
    return {
        "map_id": row["map_id"],
        "session_id": row["session_id"],
        "map_name": row["map_name"],
        "image_url": f"/api/session/maps/image.php?map_id={row['map_id']}",
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "width": row["width"],
        "height": row["height"],
        "grid_size": row["grid_size"],
        "grid_offset_x": row["grid_offset_x"],
        "grid_offset_y": row["grid_offset_y"],
        "is_active": bool(row["is_active"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def audience(row: Row) -> Audience:
    """Who hears of a change to this map: everyone when it is the active map, else the DM alone."""
    return "session" if row["is_active"] else "dm"


def _default_grid(width: int, height: int) -> int:
    size = DEFAULT_GRID_SIZE
    while Grid(width, height, size, 0, 0).cell_count > MAX_GRID_CELLS:
        size += 10
    return size


async def load(db: Database | Transaction, map_id: int) -> Row:
    row = await db.fetch_one(f"SELECT {MAP_COLUMNS} FROM battle_maps WHERE map_id = :mid", {"mid": map_id})
    if row is None:
        raise NotFound("Map not found")
    return row


async def for_member(db: Database, user: User, map_id: int) -> tuple[Row, Membership]:
    """The map and the user's membership; a player may see only the active map (others: not found)."""
    row = await load(db, map_id)
    member = await require_member(db, row["session_id"], user)
    if not member.viewer_is_dm and not row["is_active"]:
        raise NotFound("Map not found")
    return row, member


async def for_dm(db: Database, user: User, map_id: int) -> Row:
    row = await load(db, map_id)
    await require_dm(db, row["session_id"], user)
    return row


async def store(log: EventLog, dm: User, session_id: int, map_name: str, image: uploads.IncomingImage) -> BattleMap:
    """Accept a received map image: its size from the header, a random file name, one row; the first
    map of a game session becomes its active map."""
    await require_dm(log.db, session_id, dm)
    image_type = image.image_type()
    if image.size == 0 or image.temp_path is None or image_type is None:
        raise uploads.not_an_image(MAP_TYPES, "image")
    await asyncio.to_thread(image.finish)
    width, height = await asyncio.to_thread(map_images.dimensions, image.temp_path)
    stored_name = f"{secrets.token_hex(16)}.{image_type.extension}"
    final_path = image.directory / stored_name
    now = clock.now_text()
    try:
        async with log.change(session_id) as change:
            counts = await change.tx.fetch_one(
                "SELECT count(*) AS maps, coalesce(sum(is_active), 0) AS active FROM battle_maps "
                "WHERE session_id = :sid",
                {"sid": session_id},
            )
            assert counts is not None
            if counts["maps"] >= MAX_MAPS_PER_SESSION:
                raise Conflict(f"A game session has at most {MAX_MAPS_PER_SESSION} maps; delete one first")
            map_id = await change.tx.fetch_val(
                "INSERT INTO battle_maps (session_id, map_name, stored_name, content_type, size_bytes, width, height, "
                "grid_size, is_active, created_at, updated_at) VALUES (:sid, :name, :stored, :type, :size, :w, :h, "
                ":grid, :active, :now, :now) RETURNING map_id",
                {
                    "sid": session_id,
                    "name": map_name,
                    "stored": stored_name,
                    "type": image_type.content_type,
                    "size": image.size,
                    "w": width,
                    "h": height,
                    "grid": _default_grid(width, height),
                    "active": int(counts["active"] == 0),
                    "now": now,
                },
            )
            row = await load(change.tx, map_id)
            await change.record(session_id, "map_refresh", {"map": view(row)}, audience="dm")
            if row["is_active"]:
                await change.record(session_id, "map_activated", {"map_id": map_id, "map": view(row)})
            await asyncio.to_thread(os.replace, image.temp_path, final_path)
    except BaseException:
        await asyncio.to_thread(final_path.unlink, missing_ok=True)
        raise
    return view(row)


async def list_maps(db: Database, user: User, session_id: int) -> list[BattleMap]:
    """The DM: every map of the game session; a player: the active one (or none)."""
    member = await require_member(db, session_id, user)
    only_active = "" if member.viewer_is_dm else " AND is_active = 1"
    rows = await db.fetch_all(
        f"SELECT {MAP_COLUMNS} FROM battle_maps WHERE session_id = :sid{only_active} ORDER BY map_id",
        {"sid": session_id},
    )
    return [view(row) for row in rows]


async def update(log: EventLog, dm: User, map_id: int, fields: dict[str, Any]) -> BattleMap:
    """Change the name, the grid (size, offset) or whether the map is active. Activating a map
    deactivates the game session's other maps; deactivating the active one leaves none active."""
    session_id = (await for_dm(log.db, dm, map_id))["session_id"]
    async with log.change(session_id) as change:
        row = await load(change.tx, map_id)
        activate = fields.pop("is_active", None)
        if fields:
            merged = {**row, **fields}
            grid = Grid.of(merged)
            if grid.cell_count > MAX_GRID_CELLS:
                raise Invalid({"grid_size": f"The grid would have more than {MAX_GRID_CELLS} cells: make it larger"})
            if not (grid.offset_x < grid.size and grid.offset_y < grid.size):
                raise Invalid({"grid_offset_x": "The grid offset must be smaller than the grid size"})
            assignments = ", ".join(f"{field} = :{field}" for field in fields)
            await change.tx.execute(
                f"UPDATE battle_maps SET {assignments}, updated_at = :now WHERE map_id = :mid",
                {**fields, "now": clock.now_text(), "mid": map_id},
            )
            row = await load(change.tx, map_id)
            await change.record(session_id, "map_refresh", {"map": view(row)}, audience=audience(row))
        if activate is not None and bool(activate) != bool(row["is_active"]):
            await _activate(change, session_id, map_id if activate else None)
            row = await load(change.tx, map_id)
    return view(row)


async def _activate(change: Change, session_id: int, map_id: int | None) -> None:
    await change.tx.execute(
        "UPDATE battle_maps SET is_active = CASE WHEN map_id = :mid THEN 1 ELSE 0 END WHERE session_id = :sid",
        {"mid": map_id or 0, "sid": session_id},
    )
    active = None if map_id is None else view(await load(change.tx, map_id))
    await change.record(session_id, "map_activated", {"map_id": map_id, "map": active})


async def delete(log: EventLog, dm: User, map_id: int, upload_dir: Path) -> MapDeleted:
    """Delete the map with its tokens, fog and drawings, then its image file."""
    row = await for_dm(log.db, dm, map_id)
    async with log.change(row["session_id"]) as change:
        row = await load(change.tx, map_id)
        await change.tx.execute("DELETE FROM battle_maps WHERE map_id = :mid", {"mid": map_id})
        await change.record(row["session_id"], "map_deleted", {"map_id": map_id}, audience=audience(row))
    await asyncio.to_thread((maps_dir(upload_dir) / row["stored_name"]).unlink, missing_ok=True)
    return {"map_id": map_id, "deleted": True}


async def image(db: Database, user: User, map_id: int, upload_dir: Path) -> tuple[Path, str]:
    """The map's image file and its Content-Type, for the DM or (the active map) a player."""
    row, _ = await for_member(db, user, map_id)
    path = maps_dir(upload_dir) / row["stored_name"]
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("Map image not found")
    return path, row["content_type"]
