"""What the app is built of, reached through one typed accessor: `services(request)` (or a WebSocket,
or the app itself) instead of `app.state.x`. `create_app` makes the one `Services` of an app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from server.database import Database
from server.event_log import EventLog
from server.mail import Mailer
from server.metrics import Metrics
from server.request_quota import RequestQuota
from server.send_rate import SendRate
from server.settings import Settings
from server.web_push import WebPush


class Transports(Protocol):
    """What the wiring needs of the hub (server/channels/hub.py). The domain never names the transports;
    they and the routes that serve them take the hub back with `server.channels.hub.of(services)`."""

    async def stop(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    db: Database
    event_log: EventLog
    hub: Transports
    send_rate: SendRate
    metrics: Metrics
    request_quota: RequestQuota  # the /v1 request limits of the plans
    mailer: Mailer
    web_push: WebPush  # its VAPID public key is served to browsers
    # SECRET_KEY, or the key kept in the database: known once the app has started (server/app.py).
    secret_key: str = ""


def services(holder: HTTPConnection | Starlette) -> Services:
    """The services of the app serving this request or WebSocket (or of this app)."""
    state = holder.state if isinstance(holder, Starlette) else holder.app.state
    found: Services = state.services
    return found
