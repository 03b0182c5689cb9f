"""/v1/notifications/push-key and /v1/notifications/push-subscriptions: Web Push for the caller's
browsers (the VAPID public key to subscribe with; save, list and delete subscriptions)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import push_subscriptions, webhook_urls
from server.api.requests import Body, authenticated, json_body
from server.api.v1.paths import path_id
from server.api.v1.responses import created, no_content, ok
from server.services import services
from server.web_push import public_key


class PushKeys(Body):
    p256dh: str = Field(title="Browser public key", min_length=1, max_length=100, description="base64url, 65 bytes")
    auth: str = Field(title="Auth secret", min_length=1, max_length=30, description="base64url, 16 bytes")


class NewPushSubscription(Body):
    """What the browser's PushSubscription.toJSON() gives (`expirationTime` is ignored)."""

    endpoint: str = Field(title="Endpoint", min_length=1, max_length=webhook_urls.MAX_URL)
    keys: PushKeys = Field(title="Keys")
    expirationTime: int | None = Field(default=None, title="Expiration time", ge=0, le=2**53)


class PushKey(TypedDict):
    object: Literal["push_key"]
    public_key: str  # the VAPID key, base64url: PushManager.subscribe's applicationServerKey


class PushSubscriptionList(TypedDict):
    object: Literal["list"]
    data: list[push_subscriptions.PushSubscription]  # oldest first


async def push_key(request: Request) -> Response:
    await authenticated(request)
    key: PushKey = {"object": "push_key", "public_key": public_key(services(request).web_push.private_key)}
    return ok(key)


async def subscribe(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, NewPushSubscription)
    found = services(request)
    saved = await push_subscriptions.subscribe(
        found.db, caller.user, body.endpoint, body.keys.p256dh, body.keys.auth, found.settings.webhooks.allowed_hosts
    )
    return created(saved, f"/v1/notifications/push-subscriptions/{saved['id']}")


async def list_subscriptions(request: Request) -> Response:
    caller = await authenticated(request)
    found = await push_subscriptions.list_for(services(request).db, caller.user)
    subscriptions: PushSubscriptionList = {"object": "list", "data": found}
    return ok(subscriptions)


async def unsubscribe(request: Request) -> Response:
    caller = await authenticated(request)
    await push_subscriptions.unsubscribe(services(request).db, caller.user, path_id(request, "subscription_id"))
    return no_content()
