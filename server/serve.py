"""Running the server under uvicorn with the settings the real-time transports need."""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.applications import Starlette

from server import logs
from server.app import create_app
from server.channels.raw_send import RawSendProtocol
from server.metrics import Metrics
from server.services import services
from server.settings import Settings

WS_MAX_FRAME = 64 * 1024  # client frames are tiny; anything larger is closed with 1009


class _Server(uvicorn.Server):
    """Closes every WebSocket with 1012 and answers parked polls as soon as shutdown starts, instead of
    waiting for them to end by themselves."""

    def __init__(self, config: uvicorn.Config, app: Starlette, *, collector_policy: bool = False) -> None:
        super().__init__(config)
        self._app = app
        # The garbage collector's pauses otherwise set the latency tail (server/collector.py); the policy
        # is process-wide, so only a process that runs one server turns it on.
        app.state.collector.policy = collector_policy

    async def shutdown(self, sockets: Any = None) -> None:
        await services(self._app).hub.stop()
        await super().shutdown(sockets)


def config(settings: Settings, host: str, port: int, **overrides: Any) -> tuple[uvicorn.Config, Starlette]:
    app = create_app(settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        # Measured (update-hp, server CPU per request): h11 costs about a third more than httptools, which
        # "auto" would silently fall back to without it. The loop stays "auto" (uvloop where installed):
        # asyncio's measured the same within the noise.
        "http": "httptools",
        "ws_max_size": WS_MAX_FRAME,
        # Compression costs CPU per message per connection; the frames are small JSON.
        "ws_per_message_deflate": False,
        # uvicorn's own WebSocket protocol that lets the hub write each event's frame bytes to every
        # connection directly (server/channels/raw_send.py).
        "ws": RawSendProtocol,
        "timeout_graceful_shutdown": 5,
        # X-Forwarded-For and -Proto are read by server/api/requests.py, when TRUST_X_FORWARDED_FOR says so.
        "proxy_headers": False,
        "log_level": "info",
        # server/api/request_log.py logs each request (by route template, with the user id) when
        # ACCESS_LOG says so; uvicorn's own access log never.
        "access_log": False,
        "lifespan": "on",
    }
    options.update(overrides)
    return uvicorn.Config(app, **options), app


def run(settings: Settings, host: str, port: int) -> None:
    logs.configure(settings.log_format)
    uvicorn_config, app = config(settings, host, port, log_config=None)  # uvicorn logs through ours
    try:
        _Server(uvicorn_config, app, collector_policy=True).run()
    finally:
        Metrics.process_exited()


def server(settings: Settings, host: str, port: int, **overrides: Any) -> uvicorn.Server:
    """A server object to run in-process (the tests use it)."""
    uvicorn_config, app = config(settings, host, port, **overrides)
    return _Server(uvicorn_config, app)
