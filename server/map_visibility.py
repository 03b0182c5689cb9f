"""What players may see of a battle map: the rule every map read and every map event goes through.

A token is shown to players when its map is the active map, the DM has not hidden it, and the grid cell
of its centre is revealed (everything not revealed is under fog). The DM sees everything. A player gets
only revealed cells, never the geometry of the fog itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from server.battle_maps import Grid
from server.database import Database, Row, Transaction

Cell = tuple[int, int]


@dataclass(frozen=True)
class TableView:
    """What players may see on the game session's active map, for judging ephemeral events (drags,
    pings) without a database read each: the hub keeps one per game session and drops it whenever a
    map event passes, so it is never older than the events a player has been sent."""

    map_id: int | None = None
    grid: Grid | None = None
    revealed: frozenset[Cell] = frozenset()
    shown_tokens: frozenset[int] = field(default_factory=frozenset)  # on the map and not hidden
    # Every token on the map (hidden ones too): the user whose character it is, or None. A connection's
    # first drag of a token is checked against it (map_tokens.check_drag) without a database read.
    owners: Mapping[int, int | None] = field(default_factory=dict)

    def shows(self, map_id: int, token_id: int | None, x: float, y: float) -> bool:
        """Whether players may see something at (x, y) of map `map_id` (a drag of `token_id`, a ping)."""
        if self.grid is None or map_id != self.map_id:
            return False
        if token_id is not None and token_id not in self.shown_tokens:
            return False
        return self.grid.cell_of(x, y) in self.revealed


async def table_view(db: Database, session_id: int) -> TableView:
    map_row = await db.fetch_one(
        "SELECT map_id, width, height, grid_size, grid_offset_x, grid_offset_y FROM battle_maps "
        "WHERE session_id = :sid AND is_active = 1",
        {"sid": session_id},
    )
    if map_row is None:
        return TableView()
    tokens = await db.fetch_all(
        "SELECT t.token_id, t.hidden, c.user_id AS owner_user_id FROM map_tokens t "
        "LEFT JOIN characters c ON c.character_id = t.character_id WHERE t.map_id = :mid",
        {"mid": map_row["map_id"]},
    )
    return TableView(
        map_row["map_id"],
        Grid.of(map_row),
        frozenset(await revealed_cells(db, map_row["map_id"])),
        frozenset(row["token_id"] for row in tokens if not row["hidden"]),
        {row["token_id"]: row["owner_user_id"] for row in tokens},
    )


class RevealedRuns(Container[Cell]):
    """The revealed cells as runs along each row: `[row, first_column, last_column]`, in row then column
    order. A map's revealed area is mostly whole rooms, so a few runs stand for thousands of cells: the
    joining client's snapshot carries these instead of every cell."""

    def __init__(self, runs: list[list[int]]) -> None:
        self.runs = runs
        self._by_row: dict[int, tuple[list[int], list[int]]] = {}
        for row, first, last in runs:
            firsts, lasts = self._by_row.setdefault(row, ([], []))
            firsts.append(first)
            lasts.append(last)

    def __contains__(self, cell: object) -> bool:
        if not isinstance(cell, tuple) or len(cell) != 2:
            return False
        col, row = cell
        found = self._by_row.get(row)
        if found is None:
            return False
        index = bisect.bisect_right(found[0], col) - 1
        return index >= 0 and col <= found[1][index]


async def revealed_runs(db: Database | Transaction, map_id: int) -> RevealedRuns:
    """The revealed cells in runs, found by the database: consecutive columns of one row share
    `cell_col - ROW_NUMBER()` (gaps and islands), so each run is one row of the answer."""
    rows = await db.fetch_all(
        "SELECT cell_row, MIN(cell_col) AS first_col, MAX(cell_col) AS last_col FROM (SELECT cell_row, cell_col, "
        "cell_col - ROW_NUMBER() OVER (PARTITION BY cell_row ORDER BY cell_col) AS island FROM map_fog_cells "
        "WHERE map_id = :mid) cells GROUP BY cell_row, island ORDER BY cell_row, first_col",
        {"mid": map_id},
    )
    return RevealedRuns([[row["cell_row"], row["first_col"], row["last_col"]] for row in rows])


async def revealed_cells(db: Database | Transaction, map_id: int) -> set[Cell]:
    rows = await db.fetch_all("SELECT cell_col, cell_row FROM map_fog_cells WHERE map_id = :mid", {"mid": map_id})
    return {(row["cell_col"], row["cell_row"]) for row in rows}


async def is_revealed(db: Database | Transaction, map_id: int, cell: Cell) -> bool:
    found = await db.fetch_val(
        "SELECT 1 FROM map_fog_cells WHERE map_id = :mid AND cell_col = :col AND cell_row = :row",
        {"mid": map_id, "col": cell[0], "row": cell[1]},
    )
    return found is not None


def _cell(map_row: Row, token: Row) -> Cell | None:
    """The cell that decides whether players see `token`; None when nothing would show it."""
    if not map_row["is_active"] or token["hidden"]:
        return None
    return Grid.of(map_row).cell_of(token["x_position"], token["y_position"])


def shown(map_row: Row, token: Row, revealed: Container[Cell]) -> bool:
    """Whether players see `token` (a row with hidden, x_position, y_position) given the revealed cells."""
    cell = _cell(map_row, token)
    return cell is not None and cell in revealed


async def shown_now(db: Database | Transaction, map_row: Row, token: Row) -> bool:
    """`shown`, reading only the one cell the token stands in."""
    cell = _cell(map_row, token)
    return cell is not None and await is_revealed(db, map_row["map_id"], cell)
