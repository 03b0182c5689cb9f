"""Freehand drawings on a battle map: strokes and erasures by the DM and the players, cleared by the DM.

Events: `map_drawing_added` {drawing}, `map_drawings_cleared` {map_id}; to everyone on the active map,
to the DM alone on another. Drawings are not covered by the fog: what is drawn, the table sees.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from server import clock, codec
from server.accounts import User
from server.battle_maps import audience, for_dm, for_member, load
from server.database import Database, Row, Transaction
from server.errors import Conflict, NotFound
from server.event_log import EventLog

MAX_DRAWINGS_PER_MAP = 1_000
MAX_POINTS = 2_000
_COLUMNS = "drawing_id, map_id, user_id, drawing_type, color, brush_size, path_data, created_at"


class Drawing(TypedDict):
    drawing_id: int
    map_id: int
    user_id: int
    drawing_type: Literal["stroke", "erase"]  # an erase stroke masks what was drawn before it
    color: str
    brush_size: int
    path_data: list[list[float]]  # [x, y] points, map pixels
    created_at: str


class DrawingList(TypedDict):
    drawings: list[Drawing]


class Cleared(TypedDict):
    map_id: int
    cleared: bool


def view(row: Row) -> Drawing:
    return {**row, "path_data": codec.loads(row["path_data"])}  # type: ignore[typeddict-item]


async def add(log: EventLog, user: User, map_id: int, fields: dict[str, Any]) -> Drawing:
    map_row, member = await for_member(log.db, user, map_id)
    async with log.change(map_row["session_id"]) as change:
        map_row = await load(change.tx, map_id)
        if not map_row["is_active"] and not member.viewer_is_dm:
            raise NotFound("Map not found")  # it stopped being the active map meanwhile
        count = await change.tx.fetch_val("SELECT count(*) FROM map_drawings WHERE map_id = :mid", {"mid": map_id})
        if count >= MAX_DRAWINGS_PER_MAP:
            raise Conflict(f"A map holds at most {MAX_DRAWINGS_PER_MAP} drawings; the DM can clear them")
        drawing_id = await change.tx.fetch_val(
            "INSERT INTO map_drawings (map_id, user_id, drawing_type, color, brush_size, path_data, created_at) "
            "VALUES (:mid, :uid, :type, :color, :brush, :path, :now) RETURNING drawing_id",
            {
                "mid": map_id,
                "uid": user.user_id,
                "type": fields["drawing_type"],
                "color": fields["color"],
                "brush": fields["brush_size"],
                "path": codec.dumps_text(fields["path_data"]),
                "now": clock.now_text(),
            },
        )
        row = await change.tx.fetch_one(
            f"SELECT {_COLUMNS} FROM map_drawings WHERE drawing_id = :did", {"did": drawing_id}
        )
        assert row is not None
        drawing = view(row)
        await change.record(
            map_row["session_id"], "map_drawing_added", {"drawing": drawing}, audience=audience(map_row)
        )
    return drawing


async def on_map(db: Database | Transaction, map_id: int) -> list[Drawing]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM map_drawings WHERE map_id = :mid ORDER BY drawing_id", {"mid": map_id}
    )
    return [view(row) for row in rows]


async def for_list(db: Database, user: User, map_id: int) -> list[Drawing]:
    await for_member(db, user, map_id)
    return await on_map(db, map_id)


async def clear(log: EventLog, dm: User, map_id: int) -> Cleared:
    map_row = await for_dm(log.db, dm, map_id)
    async with log.change(map_row["session_id"]) as change:
        map_row = await load(change.tx, map_id)
        await change.tx.execute("DELETE FROM map_drawings WHERE map_id = :mid", {"mid": map_id})
        await change.record(
            map_row["session_id"], "map_drawings_cleared", {"map_id": map_id}, audience=audience(map_row)
        )
    return {"map_id": map_id, "cleared": True}
