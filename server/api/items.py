"""/api/items/list.php: the public equipment list."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import items
from server.api.envelope import success
from server.api.pagination import PageQuery, Pagination, pagination
from server.api.requests import query
from server.services import services


class ItemPage(TypedDict):
    items: list[items.Item]
    total_count: int  # the same as pagination.total (the legacy server's field)
    pagination: Pagination


class ItemQuery(PageQuery):
    category: str | None = Field(default=None, title="Category", max_length=50)
    item_type: str | None = Field(default=None, title="Item type", max_length=50)


async def list_items(request: Request) -> Response:
    params = query(request, ItemQuery)
    rows, total = await items.listing(
        services(request).db, params.category, params.item_type, params.limit, params.offset
    )
    return success({"items": rows, "total_count": total, "pagination": pagination(params, total)})
