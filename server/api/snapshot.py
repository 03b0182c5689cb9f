"""GET /api/session/snapshot.php: what a joining member may see of the table, with its head event_id."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import table_snapshot
from server.api.envelope import success
from server.api.maps import SessionRef
from server.api.requests import authenticated, query
from server.services import services


async def snapshot(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, SessionRef)
    return success(await table_snapshot.snapshot(services(request).event_log, login.user, params.session_id))
