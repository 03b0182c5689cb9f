"""Web Push subscriptions: the browsers of an account that take its notifications as pushes, and the
outbox of pushes (sent by server/web_push.py).

A subscription is what the browser's PushManager.subscribe() gives: an endpoint URL at the browser's push
service and its keys (`p256dh`, the browser's P-256 public key, 65 bytes; `auth`, 16 bytes; both base64url).
The endpoint is checked with the webhooks' SSRF rules (server/webhook_urls.py) when it is saved and again
before every push. One endpoint belongs to one account: subscribing it again (another login in the same
browser) moves it. `queue(tx, ...)` writes one push per subscription of the user in the transaction of the
notification it carries, so a push goes out exactly when its notification was committed."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal

from typing_extensions import TypedDict

from server import clock, codec, webhook_urls
from server.accounts import User
from server.database import Database, Transaction
from server.errors import Invalid, NotFound
from server.webhook_events import now_ms

MAX_PER_USER = 10
MAX_PAYLOAD = 3000  # bytes of JSON; push services take 4096 after encryption
_COLUMNS = "subscription_id, endpoint, created_at"


class PushSubscription(TypedDict):
    id: int
    object: Literal["push_subscription"]
    endpoint: str  # the push service's URL for the browser
    created_at: str


def _public(row: dict[str, Any]) -> PushSubscription:
    return {
        "id": row["subscription_id"],
        "object": "push_subscription",
        "endpoint": row["endpoint"],
        "created_at": clock.iso(row["created_at"]),
    }


def decoded_key(value: str, length: int, field: str) -> bytes:
    """A base64url key of exactly `length` bytes (padding optional); Invalid otherwise."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length or (length == 65 and raw[0] != 4):
        raise Invalid({field: f"Must be a base64url key of {length} bytes"}, codes={field: "invalid_format"})
    return raw


async def subscribe(
    db: Database, user: User, endpoint: str, p256dh: str, auth: str, allowed_hosts: tuple[str, ...]
) -> PushSubscription:
    """Save (or move to this account) the browser's subscription."""
    decoded_key(p256dh, 65, "keys.p256dh")
    decoded_key(auth, 16, "keys.auth")
    try:
        await webhook_urls.check(endpoint, allowed_hosts)
    except webhook_urls.RefusedUrl as refused:
        raise Invalid({"endpoint": str(refused)}, codes={"endpoint": "url_not_allowed"}) from None
    async with db.transaction() as tx:
        count = await tx.fetch_val(
            "SELECT count(*) FROM push_subscriptions WHERE user_id = :uid AND endpoint <> :endpoint",
            {"uid": user.user_id, "endpoint": endpoint},
        )
        if count >= MAX_PER_USER:
            raise Invalid({"endpoint": f"An account has at most {MAX_PER_USER} push subscriptions; delete one first"})
        row = await tx.fetch_one(
            "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) "
            "VALUES (:uid, :endpoint, :p256dh, :auth, :now) ON CONFLICT (endpoint) DO UPDATE "
            "SET user_id = :uid, p256dh = :p256dh, auth = :auth, created_at = :now "
            f"RETURNING {_COLUMNS}",
            {"uid": user.user_id, "endpoint": endpoint, "p256dh": p256dh, "auth": auth, "now": clock.now_text()},
        )
    assert row is not None
    return _public(row)


async def list_for(db: Database, user: User) -> list[PushSubscription]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM push_subscriptions WHERE user_id = :uid ORDER BY subscription_id",
        {"uid": user.user_id},
    )
    return [_public(row) for row in rows]


async def unsubscribe(db: Database, user: User, subscription_id: int) -> None:
    async with db.transaction() as tx:
        if not await remove(tx, subscription_id, user.user_id):
            raise NotFound("Push subscription not found")


async def remove(tx: Transaction, subscription_id: int, user_id: int | None = None) -> bool:
    """Delete a subscription with its pending pushes (of that user only, if given); whether it existed."""
    owner = "" if user_id is None else " AND user_id = :uid"
    values: dict[str, Any] = {"id": subscription_id} if user_id is None else {"id": subscription_id, "uid": user_id}
    found = await tx.fetch_val(
        f"SELECT subscription_id FROM push_subscriptions WHERE subscription_id = :id{owner}", values
    )
    if found is None:
        return False
    await tx.execute("DELETE FROM push_deliveries WHERE subscription_id = :id", {"id": subscription_id})
    await tx.execute("DELETE FROM push_subscriptions WHERE subscription_id = :id", {"id": subscription_id})
    return True


async def queue(tx: Transaction, user_id: int, message: Mapping[str, Any]) -> None:
    """A push of `message` to each of the user's browsers, in `tx` (nothing when they have none)."""
    payload = codec.dumps_text(message)
    if len(payload.encode()) > MAX_PAYLOAD:  # a long title or data: the browser fetches the rest
        payload = codec.dumps_text({key: message[key] for key in ("id", "kind", "created_at") if key in message})
    await tx.execute(
        "INSERT INTO push_deliveries (subscription_id, payload, next_attempt_at, created_at) "
        "SELECT subscription_id, :payload, :due, :now FROM push_subscriptions WHERE user_id = :uid",
        {"uid": user_id, "payload": payload, "due": now_ms(), "now": clock.now_text()},
    )
