"""create_app(settings): builds the whole server. No import-time side effects, no global connections."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from server import bestiary, items, retention, schema
from server.api.envelope import exception_handlers, render_legacy
from server.api.hot_routes import HotRoutes
from server.api.request_log import RequestLog
from server.api.routes import ENDPOINTS, HOT_HANDLERS, ROUTES
from server.api.v1.responses import render_error
from server.broadcast import Broadcast
from server.channels.hub import Hub, SendLimits
from server.collector import Collector
from server.database import Database
from server.event_log import EventLog
from server.mail import Mailer
from server.metrics import Metrics
from server.request_quota import RequestQuota
from server.send_rate import SendRate
from server.services import Services
from server.session_reminders import SessionReminders
from server.settings import Settings
from server.web_push import WebPush, new_private_key
from server.webhook_delivery import WebhookDelivery

CLIENT_DIR = Path(__file__).resolve().parent.parent / "client"


async def _kept_key(db: Database, name: str, configured: str | None, generate: Callable[[], str]) -> str:
    """The configured key if set; else one generated once and kept in the database, so it survives
    restarts and every process uses the same (SECRET_KEY for sessions, VAPID_PRIVATE_KEY for pushes)."""
    if configured:
        return configured
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO server_settings (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING",
            {"name": name, "value": generate()},
        )
        key: str = await tx.fetch_val("SELECT value FROM server_settings WHERE name = :name", {"name": name})
    return key


class App(Starlette):
    """Starlette, except that the hottest POSTs go straight to their handlers (server/api/hot_routes.py)."""

    hot_routes: HotRoutes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot_routes.app_for(scope)
        if hot is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await hot(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    metrics = Metrics()
    db = Database(settings.database_url)
    db.observe = metrics.observe_statement
    broadcast = Broadcast(settings.broadcast_url)
    event_log = EventLog(db, broadcast, metrics)
    hub = Hub(
        event_log,
        broadcast,
        max_connections=settings.max_connections,
        max_user_connections=settings.max_user_connections,
        connection_rate=settings.connection_rate,
        send_limits=SendLimits(settings.send_queue_limit, settings.send_queue_bytes, settings.send_stall_seconds),
    )
    send_rate = SendRate(settings.broadcast_url, settings.chat_per_second, settings.chat_per_minute)
    webhook_delivery = WebhookDelivery(db, settings.webhooks)
    mailer = Mailer(settings.mail)
    reminders = SessionReminders(db, event_log, mailer, settings.reminder_poll_interval)
    web_push = WebPush(db, settings.webhooks, settings.vapid_subject)
    services = Services(
        settings, db, event_log, hub, send_rate, metrics, RequestQuota(settings.broadcast_url), mailer, web_push
    )
    collector = Collector(metrics)  # its policy is the served process's to turn on (server/serve.py)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Before the connections open: a transaction they held would block the migrations (server/schema.py).
        await schema.upgrade(settings.database_url)
        await db.connect()
        try:
            await bestiary.seed(db)
            await items.seed(db)
            services.secret_key = await _kept_key(
                db, "secret_key", settings.secret_key, lambda: secrets.token_urlsafe(48)
            )
            push_key = await _kept_key(db, "vapid_private_key", settings.vapid_private_key, new_private_key)
            services.request_quota.start(hashlib.sha256(services.secret_key.encode()).hexdigest()[:16])
            await broadcast.connect()
            await send_rate.start()
            await hub.start()
            pruning = (
                asyncio.create_task(retention.keep_pruning(event_log, settings.event_retention_days))
                if settings.event_retention_days
                else None
            )
            webhook_delivery.start()
            reminders.start()
            web_push.start(push_key)
            collector.start()
            yield
            await collector.stop()
            await reminders.stop()
            await web_push.stop()
            await webhook_delivery.stop()
            await mailer.close()
            if pruning is not None:
                pruning.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pruning
            await hub.stop()
        finally:
            await send_rate.stop()
            await services.request_quota.close()
            await broadcast.disconnect()
            await db.disconnect()

    routes = [*ROUTES]
    if CLIENT_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=CLIENT_DIR, html=True), name="client"))
    templates: dict[object, str] = {endpoint.handler: path for path, endpoint in ENDPOINTS}
    # A /v1 path that never reaches the /v1 mount (its pattern refuses a newline) still answers in the
    # platform format.
    handlers = exception_handlers(render_legacy, {"/v1/": render_error})
    app = App(
        routes=routes,
        exception_handlers=handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
        middleware=[
            Middleware(RequestLog, metrics=metrics, templates=templates, log_lines=settings.access_log),
        ],
    )
    app.hot_routes = HotRoutes(HOT_HANDLERS, templates, handlers, metrics, log_lines=settings.access_log)
    app.state.services = services
    app.state.collector = collector
    return app
