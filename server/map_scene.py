"""One battle map as a viewer may see it, in one answer: the map, its tokens, the revealed fog cells and
the drawings, with the event_id it is current to.

A client applies the live events with a greater event_id on top. The head is read before the rest, so
the scene is at least as new as the head says: an event a client applies again on top of it (a move,
an addition, a removal, all by id) changes nothing that a later event does not set right.
"""

from __future__ import annotations

from collections.abc import Container
from typing import NotRequired

from server import map_drawings, map_tokens
from server.accounts import User
from server.battle_maps import BattleMap, Grid, for_member, view
from server.database import Database
from server.map_drawings import Drawing
from server.map_tokens import Token
from server.map_visibility import Cell, revealed_cells, revealed_runs


class MapScene(BattleMap):
    head_event_id: int  # apply live events with a greater event_id on top
    grid_columns: list[int]  # [first, last] column a point of the map can fall in
    grid_rows: list[int]  # [first, last] row
    tokens: list[Token]  # those the viewer may see: for a player none hidden and none under fog
    revealed_cells: NotRequired[list[list[int]]]  # [column, row] of each revealed cell (maps/get.php)
    revealed_runs: NotRequired[list[list[int]]]  # [row, first column, last column] (the snapshot)
    drawings: list[Drawing]


async def scene(db: Database, user: User, map_id: int, fog_runs: bool = False) -> MapScene:
    """`fog_runs`: the revealed area as `revealed_runs` ([[row, first_column, last_column], ...], see
    `map_visibility.RevealedRuns`) instead of `revealed_cells`, as the snapshot sends it."""
    map_row, member = await for_member(db, user, map_id)
    head = await db.fetch_val(
        "SELECT event_head FROM game_sessions WHERE session_id = :sid", {"sid": map_row["session_id"]}
    )
    grid = Grid.of(map_row)
    revealed: Container[Cell]
    if fog_runs:
        revealed = runs = await revealed_runs(db, map_id)
    else:
        revealed = cells = await revealed_cells(db, map_id)
    answer: MapScene = {
        **view(map_row),
        "head_event_id": int(head),
        "grid_columns": [grid.columns.start, grid.columns.stop - 1],
        "grid_rows": [grid.rows.start, grid.rows.stop - 1],
        "tokens": await map_tokens.on_map(db, map_row, member.viewer_is_dm, revealed),
        "drawings": await map_drawings.on_map(db, map_id),
    }
    if fog_runs:
        answer["revealed_runs"] = runs.runs
    else:
        answer["revealed_cells"] = [list(cell) for cell in sorted(cells)]
    return answer
