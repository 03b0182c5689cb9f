"""One battle map as a viewer may see it, in one answer: the map, its tokens, the revealed fog cells and
the drawings, with the event_id it is current to.

A client applies the live events with a greater event_id on top. The head is read before the rest, so
the scene is at least as new as the head says: an event a client applies again on top of it (a move,
an addition, a removal, all by id) changes nothing that a later event does not set right.
"""

from __future__ import annotations

from typing import Any

from server import map_drawings, map_tokens
from server.accounts import User
from server.battle_maps import Grid, for_member, view
from server.database import Database
from server.map_visibility import revealed_cells


async def scene(db: Database, user: User, map_id: int) -> dict[str, Any]:
    map_row, member = await for_member(db, user, map_id)
    head = await db.fetch_val(
        "SELECT event_head FROM game_sessions WHERE session_id = :sid", {"sid": map_row["session_id"]}
    )
    revealed = await revealed_cells(db, map_id)
    grid = Grid.of(map_row)
    return {
        **view(map_row),
        "head_event_id": int(head),
        "grid_columns": [grid.columns.start, grid.columns.stop - 1],
        "grid_rows": [grid.rows.start, grid.rows.stop - 1],
        "tokens": await map_tokens.on_map(db, map_row, member.viewer_is_dm, revealed),
        "revealed_cells": [list(cell) for cell in sorted(revealed)],
        "drawings": await map_drawings.on_map(db, map_id),
    }
