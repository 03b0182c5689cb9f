"""Pagination of every list: `page` (default 1) and `limit` (default 20, at most 100) in the query, and
the `pagination` object in the answer."""

from __future__ import annotations

import math

from pydantic import Field
from typing_extensions import TypedDict

from server.api.requests import Body

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuery(Body):
    page: int = Field(default=1, title="Page", ge=1, le=1_000_000)
    limit: int = Field(default=DEFAULT_LIMIT, title="Limit", ge=1, le=MAX_LIMIT)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


class Pagination(TypedDict):
    page: int
    limit: int
    total: int  # items in all pages
    total_pages: int


def pagination(query: PageQuery, total: int) -> Pagination:
    return {
        "page": query.page,
        "limit": query.limit,
        "total": total,
        "total_pages": math.ceil(total / query.limit) if total else 0,
    }


class HistoryQuery(Body):
    """A page of a game session's history, back in time: the `limit` newest items before `before_id`
    (the answer's `next_before_id` asks for the page before it)."""

    session_id: int = Field(title="Session ID", ge=1)
    before_id: int | None = Field(default=None, title="Before ID", ge=1)
    limit: int = Field(default=50, title="Limit", ge=1, le=MAX_LIMIT)
