"""/api/session/maps/drawings/*: freehand drawings on a battle map."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict
from starlette.requests import Request
from starlette.responses import Response

from server import map_drawings
from server.api.envelope import success
from server.api.maps import MapRef
from server.api.requests import Body, authenticated, json_body, query
from server.api.tokens import MAX_POSITION, Color
from server.services import services

Coordinate = Annotated[float, Field(ge=0, le=MAX_POSITION, allow_inf_nan=False)]


class NewDrawing(Body):
    map_id: int = Field(title="Map ID", ge=1)
    drawing_type: Literal["stroke", "erase"] = Field(title="Drawing type")
    color: Color = Field(default="#000000", title="Color", description="a colour like #000000")
    brush_size: int = Field(default=3, title="Brush size", ge=1, le=50)
    # JSON has no tuples: a pair arrives as a list, which the strict models refuse; its numbers stay strict.
    path_data: list[Annotated[tuple[Coordinate, Coordinate], Strict(False)]] = Field(
        title="Path data", min_length=1, max_length=map_drawings.MAX_POINTS
    )


async def add(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, NewDrawing)
    fields = body.model_dump(exclude={"map_id"})
    result = await map_drawings.add(services(request).event_log, login.user, body.map_id, fields)
    return success(result, "Drawing added successfully")


async def list_drawings(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, MapRef)
    return success({"drawings": await map_drawings.for_list(services(request).db, login.user, params.map_id)})


async def clear(request: Request) -> Response:
    login = await authenticated(request)
    body = await json_body(request, MapRef)
    return success(await map_drawings.clear(services(request).event_log, login.user, body.map_id), "Drawings cleared")
