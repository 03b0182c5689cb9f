"""The fog of war of a battle map: the DM reveals and hides grid cells, or covers the whole map again.

Events: `map_fog_revealed` {map_id, cells} with the cells newly revealed, `map_fog_hidden` {map_id,
cells} with the revealed cells now covered again (never a cell players had not seen), `map_fog_reset`
{map_id}. Tokens that come out from under the fog reach players as `map_token_added`, those the fog
covers again as `map_token_removed` (see `server/map_tokens.py`). On a map that is not the active one
only the DM hears of any of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from typing_extensions import TypedDict

from server import map_tokens
from server.accounts import User
from server.battle_maps import Grid, audience, for_dm, load
from server.database import Row
from server.errors import Invalid
from server.event_log import Change, EventLog
from server.map_visibility import Cell, revealed_cells

MAX_CELLS_PER_CHANGE = 5_000


class Revealed(TypedDict):
    map_id: int
    revealed: list[list[int]]  # [column, row] of each cell newly revealed
    revealed_count: int  # cells of the map revealed now


class Hidden(TypedDict):
    map_id: int
    hidden: list[list[int]]  # [column, row] of each revealed cell covered again
    revealed_count: int


class Reset(TypedDict):
    map_id: int
    revealed_count: int


def _checked(map_row: Row, cells: list[Cell]) -> set[Cell]:
    grid = Grid.of(map_row)
    outside = [cell for cell in cells if not grid.contains(*cell)]
    if outside:
        raise Invalid({"cells": f"Cell {list(outside[0])} is not on this map's grid"})
    return set(cells)


def _batches(map_id: int, cells: set[Cell]) -> Iterator[tuple[dict[str, int], range]]:
    """The cells as parameters :c<n>, :r<n> (and :mid), 500 at a time: one statement per batch."""
    ordered = sorted(cells)
    for start in range(0, len(ordered), 500):
        batch = ordered[start : start + 500]
        values = {"mid": map_id}
        for n, (col, row) in enumerate(batch):
            values[f"c{n}"], values[f"r{n}"] = col, row
        yield values, range(len(batch))


def _listed(cells: set[Cell]) -> list[list[int]]:
    return [list(cell) for cell in sorted(cells)]


async def _tokens_event(change: Change, map_row: Row, before: set[Cell], after: set[Cell]) -> None:
    """Players get the tokens that appear or vanish as the revealed area goes from `before` to `after`."""
    was = {row["token_id"]: row for row in await map_tokens.in_cells(change.tx, map_row, before)}
    now = {row["token_id"]: row for row in await map_tokens.in_cells(change.tx, map_row, after)}
    session_id = map_row["session_id"]
    for token_id in sorted(now.keys() - was.keys()):
        token = map_tokens.player_view(now[token_id])
        await change.record(session_id, "map_token_added", {"token": token}, audience="players")
    for token_id in sorted(was.keys() - now.keys()):
        removal = {"token_id": token_id, "map_id": map_row["map_id"]}
        await change.record(session_id, "map_token_removed", removal, audience="players")


def cells_in_polygon(grid: Grid, points: list[tuple[float, float]]) -> set[Cell]:
    """The grid cells whose centre lies inside the polygon (map pixels; the even-odd rule, so a
    self-crossing outline leaves its overlap out), on the map's grid only. The fog stays cells: what
    players are sent and what hides a token is decided cell by cell, as for cells revealed one by one."""
    edges = list(zip(points, points[1:] + points[:1], strict=True))
    top, bottom = min(y for _, y in points), max(y for _, y in points)
    cells: set[Cell] = set()
    for row in grid.rows:
        y = grid.offset_y + (row + 0.5) * grid.size
        if not top <= y <= bottom:
            continue
        # Where the row's centre line crosses the outline; a vertex counts for the edge it starts below.
        crossings = sorted(
            x0 + (y - y0) * (x1 - x0) / (y1 - y0) for (x0, y0), (x1, y1) in edges if (y0 <= y) != (y1 <= y)
        )
        for left, right in zip(crossings[::2], crossings[1::2], strict=False):
            first = math.ceil((left - grid.offset_x) / grid.size - 0.5)
            last = math.floor((right - grid.offset_x) / grid.size - 0.5)
            cells.update(
                (col, row) for col in range(max(first, grid.columns.start), min(last, grid.columns.stop - 1) + 1)
            )
    return cells


async def polygon_cells(log: EventLog, dm: User, map_id: int, points: list[tuple[float, float]]) -> list[Cell]:
    """The cells a polygon of the DM's covers on the map, within the bound of one change."""
    map_row = await for_dm(log.db, dm, map_id)
    cells = cells_in_polygon(Grid.of(map_row), points)
    if not cells:
        raise Invalid({"polygon": "The polygon covers no cell's centre on this map"})
    if len(cells) > MAX_CELLS_PER_CHANGE:
        raise Invalid(
            {
                "polygon": f"The polygon covers {len(cells)} cells, at most {MAX_CELLS_PER_CHANGE} at once: "
                "draw it in parts"
            }
        )
    return sorted(cells)


async def reveal(log: EventLog, dm: User, map_id: int, cells: list[Cell]) -> Revealed:
    changed, count = await _change(log, dm, map_id, cells, reveal=True)
    return {"map_id": map_id, "revealed": _listed(changed), "revealed_count": count}


async def hide(log: EventLog, dm: User, map_id: int, cells: list[Cell]) -> Hidden:
    changed, count = await _change(log, dm, map_id, cells, reveal=False)
    return {"map_id": map_id, "hidden": _listed(changed), "revealed_count": count}


async def _change(log: EventLog, dm: User, map_id: int, cells: list[Cell], reveal: bool) -> tuple[set[Cell], int]:
    """Reveal or cover `cells`; returns the cells that changed and how many are revealed after."""
    map_row = await for_dm(log.db, dm, map_id)
    wanted = _checked(map_row, cells)
    async with log.change(map_row["session_id"]) as change:
        map_row = await load(change.tx, map_id)
        before = await revealed_cells(change.tx, map_id)
        changed = wanted - before if reveal else wanted & before
        for values, numbers in _batches(map_id, changed):
            if reveal:
                rows = ", ".join(f"(:mid, :c{n}, :r{n})" for n in numbers)
                sql = f"INSERT INTO map_fog_cells (map_id, cell_col, cell_row) VALUES {rows}"
            else:
                # Plain comparisons, not a row-value IN (VALUES ...): PostgreSQL types those parameters as text.
                matches = " OR ".join(f"(cell_col = :c{n} AND cell_row = :r{n})" for n in numbers)
                sql = f"DELETE FROM map_fog_cells WHERE map_id = :mid AND ({matches})"
            await change.tx.execute(sql, values)
        after = before | changed if reveal else before - changed
        if changed:
            event_type = "map_fog_revealed" if reveal else "map_fog_hidden"
            data = {"map_id": map_id, "cells": _listed(changed)}
            await change.record(map_row["session_id"], event_type, data, audience=audience(map_row))
            await _tokens_event(change, map_row, before, after)
    return changed, len(after)


async def reset(log: EventLog, dm: User, map_id: int) -> Reset:
    """Cover the whole map with fog again."""
    map_row = await for_dm(log.db, dm, map_id)
    async with log.change(map_row["session_id"]) as change:
        map_row = await load(change.tx, map_id)
        before = await revealed_cells(change.tx, map_id)
        await change.tx.execute("DELETE FROM map_fog_cells WHERE map_id = :mid", {"mid": map_id})
        await change.record(map_row["session_id"], "map_fog_reset", {"map_id": map_id}, audience=audience(map_row))
        await _tokens_event(change, map_row, before, set())
    return {"map_id": map_id, "revealed_count": 0}
