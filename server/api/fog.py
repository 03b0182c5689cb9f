"""/api/session/maps/fog/*: the fog of war of a battle map (the DM), by grid cells [column, row] or a polygon."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict
from starlette.requests import Request
from starlette.responses import Response

from server import fog
from server.accounts import User
from server.api.envelope import success
from server.api.maps import MapRef
from server.api.requests import Body, authenticated, json_body
from server.api.tokens import MAX_POSITION
from server.errors import Invalid
from server.services import services

MAX_POLYGON_POINTS = 200
Coordinate = Annotated[float, Field(ge=-MAX_POSITION, le=MAX_POSITION, allow_inf_nan=False)]


class FogArea(Body):
    """Cells, or a polygon whose cells (those with their centre inside) change: one of the two."""

    map_id: int = Field(title="Map ID", ge=1)
    # JSON has no tuples: a pair arrives as a list, which the strict models refuse; its numbers stay strict.
    cells: list[Annotated[tuple[int, int], Strict(False)]] | None = Field(
        default=None, title="Cells", min_length=1, max_length=fog.MAX_CELLS_PER_CHANGE
    )
    polygon: list[Annotated[tuple[Coordinate, Coordinate], Strict(False)]] | None = Field(
        default=None,
        title="Polygon",
        description="[[x, y], ...] in map pixels; the cells whose centre lies inside",
        min_length=3,
        max_length=MAX_POLYGON_POINTS,
    )


async def _area(request: Request, user: User, body: FogArea) -> list[tuple[int, int]]:
    if body.cells is not None and body.polygon is None:
        return body.cells
    if body.polygon is not None and body.cells is None:
        return await fog.polygon_cells(services(request).event_log, user, body.map_id, body.polygon)
    raise Invalid({"cells": "Give either cells or a polygon"})


async def reveal(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, FogArea)
    cells = await _area(request, login.user, body)
    return success(await fog.reveal(services(request).event_log, login.user, body.map_id, cells), "Revealed")


async def hide(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, FogArea)
    cells = await _area(request, login.user, body)
    return success(await fog.hide(services(request).event_log, login.user, body.map_id, cells), "Hidden")


async def reset(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MapRef)
    return success(await fog.reset(services(request).event_log, login.user, body.map_id), "Fog reset")
