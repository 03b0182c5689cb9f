"""Ids in /v1 paths: a positive whole number within the database's INTEGER, else 404 (GitHub answers an
id that cannot exist as not found, not as a validation error)."""

from __future__ import annotations

from starlette.requests import Request

from server.api.requests import MAX_INTEGER
from server.errors import NotFound


def path_id(request: Request, name: str) -> int:
    raw = str(request.path_params[name])
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_INTEGER:
        raise NotFound("No such resource")
    return int(raw)
