"""/api/session/maps/fog/*: the fog of war of a battle map (the DM), by grid cells [column, row]."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict
from starlette.requests import Request
from starlette.responses import Response

from server import fog
from server.api.envelope import success
from server.api.maps import MapRef
from server.api.requests import Body, authenticated, json_body
from server.services import services


class FogCells(Body):
    map_id: int = Field(title="Map ID", ge=1)
    # JSON has no tuples: a pair arrives as a list, which the strict models refuse; its numbers stay strict.
    cells: list[Annotated[tuple[int, int], Strict(False)]] = Field(
        title="Cells", min_length=1, max_length=fog.MAX_CELLS_PER_CHANGE
    )


async def reveal(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, FogCells)
    return success(await fog.reveal(services(request).event_log, login.user, body.map_id, body.cells), "Revealed")


async def hide(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, FogCells)
    return success(await fog.hide(services(request).event_log, login.user, body.map_id, body.cells), "Hidden")


async def reset(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MapRef)
    return success(await fog.reset(services(request).event_log, login.user, body.map_id), "Fog reset")
