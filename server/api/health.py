"""GET /api/health: whether the server and its database answer."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server.api.envelope import failure, success
from server.channels import hub as hubs
from server.metrics import CONTENT_TYPE
from server.services import services


class Health(TypedDict):
    server: Literal["ok", "degraded"]  # degraded: the broadcast backend does not answer (the envelope says why)
    database: str  # sqlite or postgresql
    broadcast: str  # memory or redis
    broadcast_connected: bool
    connections: int  # open WebSockets and parked long-polls of this process


async def health(request: Request) -> Response:
    state = services(request)
    try:
        await state.db.fetch_val("SELECT 1")
    except Exception:
        return failure(503, "service_unavailable", "The database does not answer")
    # Without the broadcast backend the process still serves (other processes' events reach its
    # clients through the event-log sweep, seconds late): degraded, not down, so still 200.
    hub = hubs.of(state)
    connected = hub.broadcast.connected
    return success(
        {
            "server": "ok" if connected else "degraded",
            "database": state.db.dialect,
            "broadcast": state.settings.broadcast_url.split(":", 1)[0],
            "broadcast_connected": connected,
            "connections": hub.connections,
        }
    )


async def metrics(request: Request) -> Response:
    """GET /metrics: the Prometheus text format (server/metrics.py)."""
    state = services(request)
    hubs.of(state).measure_queues()
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE)
