"""The fog of war of a battle map: the DM reveals and hides grid cells, or covers the whole map again.

Events: `map_fog_revealed` {map_id, cells} with the cells newly revealed, `map_fog_hidden` {map_id,
cells} with the revealed cells now covered again (never a cell players had not seen), `map_fog_reset`
{map_id}. Tokens that come out from under the fog reach players as `map_token_added`, those the fog
covers again as `map_token_removed` (see `server/map_tokens.py`). On a map that is not the active one
only the DM hears of any of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server import map_tokens
from server.accounts import User
from server.battle_maps import Grid, audience, for_dm, load
from server.database import Row
from server.errors import Invalid
from server.event_log import Change, EventLog
from server.map_visibility import Cell, revealed_cells

MAX_CELLS_PER_CHANGE = 5_000


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


async def reveal(log: EventLog, dm: User, map_id: int, cells: list[Cell]) -> dict[str, Any]:
    changed, count = await _change(log, dm, map_id, cells, reveal=True)
    return {"map_id": map_id, "revealed": _listed(changed), "revealed_count": count}


async def hide(log: EventLog, dm: User, map_id: int, cells: list[Cell]) -> dict[str, Any]:
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


async def reset(log: EventLog, dm: User, map_id: int) -> dict[str, Any]:
    """Cover the whole map with fog again."""
    map_row = await for_dm(log.db, dm, map_id)
    async with log.change(map_row["session_id"]) as change:
        map_row = await load(change.tx, map_id)
        before = await revealed_cells(change.tx, map_id)
        await change.tx.execute("DELETE FROM map_fog_cells WHERE map_id = :mid", {"mid": map_id})
        await change.record(map_row["session_id"], "map_fog_reset", {"map_id": map_id}, audience=audience(map_row))
        await _tokens_event(change, map_row, before, set())
    return {"map_id": map_id, "revealed_count": 0}
