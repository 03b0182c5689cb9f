"""Webhook endpoints of an account: create (the signing secret is shown once), list, read, change, delete;
their delivery log, manual redelivery and a test ping. Another user's endpoint is NotFound, so ids
reveal nothing. Delivery itself is server/webhook_delivery.py; the events, server/webhook_events.py."""

from __future__ import annotations

import secrets
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from server import clock, webhook_events, webhook_urls
from server.accounts import User
from server.database import Database, Transaction
from server.errors import Invalid, NotFound
from server.settings import WebhookPolicy

MAX_ENDPOINTS = 16
SECRET_PREFIX = "whsec_"
MAX_LISTED_ATTEMPTS = 50
_COLUMNS = "endpoint_id, url, description, event_types, enabled, disabled_reason, created_at, updated_at"


class WebhookEndpoint(TypedDict):
    id: int
    object: Literal["webhook_endpoint"]
    url: str
    description: str
    events: list[str]  # the event types it receives (webhook_events.EVENT_TYPES)
    enabled: bool
    disabled_reason: str | None  # why it was disabled (by its owner, or after failing deliveries)
    created_at: str
    updated_at: str
    # Its signing secret: only in the answer that creates it, never shown again.
    secret: NotRequired[str]


class WebhookAttempt(TypedDict):
    attempt: int  # 1 for the first
    status_code: int | None  # the endpoint's answer; null when none came
    error: str | None
    duration_ms: int
    response_excerpt: str  # the start of the endpoint's answer
    retry_in_ms: int | None  # when the next attempt was planned; null when none was
    attempted_at: str


class WebhookDelivery(TypedDict):
    id: int
    object: Literal["webhook_delivery"]
    event_id: str
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempt_count: int
    last_status: int | None  # the HTTP status of the last attempt
    next_attempt_at: str | None  # while pending
    created_at: str
    attempts: list[WebhookAttempt]  # oldest first, the last 50


class Redelivery(TypedDict):
    id: int  # the delivery's
    object: Literal["webhook_delivery"]
    event_id: str  # the same event id as before
    state: Literal["pending"]


class WebhookPing(TypedDict):
    object: Literal["webhook_ping"]
    event_id: str  # its delivery shows in the endpoint's log


def _public(row: dict[str, Any]) -> WebhookEndpoint:
    """An endpoint as its owner sees it: never with its secret (only `create` shows that, once)."""
    return {
        "id": row["endpoint_id"],
        "object": "webhook_endpoint",
        "url": row["url"],
        "description": row["description"],
        "events": [part for part in row["event_types"].split(",") if part],
        "enabled": bool(row["enabled"]),
        "disabled_reason": row["disabled_reason"],
        "created_at": clock.iso(row["created_at"]),
        "updated_at": clock.iso(row["updated_at"]),
    }


def _stored_types(events: list[str]) -> str:
    unknown = [name for name in events if name not in webhook_events.EVENT_TYPES]
    if unknown or not events:
        raise Invalid(
            {"events": f"Events must be some of: {', '.join(webhook_events.EVENT_TYPES)}"}, codes={"events": "invalid"}
        )
    return "," + ",".join(sorted(set(events))) + ","


async def _checked_url(url: str, policy: WebhookPolicy) -> str:
    try:
        await webhook_urls.check(url, policy.allowed_hosts)
    except webhook_urls.RefusedUrl as refused:
        raise Invalid({"url": str(refused)}, codes={"url": "url_not_allowed"}) from None
    return url


async def _owned(db: Database | Transaction, user: User, endpoint_id: int) -> dict[str, Any]:
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE endpoint_id = :id AND user_id = :uid",
        {"id": endpoint_id, "uid": user.user_id},
    )
    if row is None:
        raise NotFound("Webhook endpoint not found")
    return row


async def create(db: Database, policy: WebhookPolicy, user: User, fields: dict[str, Any]) -> WebhookEndpoint:
    """A new endpoint; the answer carries its signing `secret`, which is never shown again."""
    url = await _checked_url(fields["url"], policy)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        if tx.dialect == "postgresql":
            await tx.execute("SELECT user_id FROM users WHERE user_id = :uid FOR UPDATE", {"uid": user.user_id})
        count = await tx.fetch_val("SELECT count(*) FROM webhook_endpoints WHERE user_id = :uid", {"uid": user.user_id})
        if count >= MAX_ENDPOINTS:
            raise Invalid({"url": f"An account has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"})
        now = clock.now_text()
        row = await tx.fetch_one(
            "INSERT INTO webhook_endpoints (user_id, url, description, event_types, secret, enabled, created_at, "
            "updated_at) "
            f"VALUES (:uid, :url, :description, :types, :secret, :enabled, :now, :now) RETURNING {_COLUMNS}",
            {
                "uid": user.user_id,
                "url": url,
                "description": fields.get("description", ""),
                "types": _stored_types(fields["events"]),
                "secret": secret,
                "enabled": int(fields.get("enabled", True)),
                "now": now,
            },
        )
    assert row is not None
    return {**_public(row), "secret": secret}


async def list_for(db: Database, user: User, limit: int, offset: int) -> tuple[list[WebhookEndpoint], int]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE user_id = :uid ORDER BY endpoint_id DESC "
        "LIMIT :limit OFFSET :offset",
        {"uid": user.user_id, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val("SELECT count(*) FROM webhook_endpoints WHERE user_id = :uid", {"uid": user.user_id})
    return [_public(row) for row in rows], total


async def get(db: Database, user: User, endpoint_id: int) -> WebhookEndpoint:
    return _public(await _owned(db, user, endpoint_id))


async def update(
    db: Database, policy: WebhookPolicy, user: User, endpoint_id: int, changes: dict[str, Any]
) -> WebhookEndpoint:
    """Change url, events, description or enabled. Enabling again clears the reason it was disabled."""
    values: dict[str, Any] = {}
    if "url" in changes:
        values["url"] = await _checked_url(changes["url"], policy)
    if "events" in changes:
        values["event_types"] = _stored_types(changes["events"])
    if "description" in changes:
        values["description"] = changes["description"]
    if "enabled" in changes:
        values["enabled"] = int(changes["enabled"])
        values["disabled_reason"] = None if changes["enabled"] else "disabled by its owner"
    async with db.transaction() as tx:
        await _owned(tx, user, endpoint_id)
        for column, value in values.items():
            await tx.execute(
                f"UPDATE webhook_endpoints SET {column} = :value, updated_at = :now WHERE endpoint_id = :id",
                {"value": value, "now": clock.now_text(), "id": endpoint_id},
            )
        return _public(await _owned(tx, user, endpoint_id))


async def delete(db: Database, user: User, endpoint_id: int) -> None:
    """Delete the endpoint with its deliveries and their log; its pending deliveries are never sent."""
    async with db.transaction() as tx:
        await _owned(tx, user, endpoint_id)
        await tx.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN "
            "(SELECT delivery_id FROM webhook_deliveries WHERE endpoint_id = :id)",
            {"id": endpoint_id},
        )
        await tx.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = :id", {"id": endpoint_id})
        await tx.execute("DELETE FROM webhook_endpoints WHERE endpoint_id = :id", {"id": endpoint_id})


def _attempt(row: dict[str, Any]) -> WebhookAttempt:
    return {
        "attempt": row["attempt"],
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "response_excerpt": row["response_excerpt"],
        "retry_in_ms": row["retry_in_ms"],
        "attempted_at": clock.iso(row["attempted_at"]),
    }


async def deliveries(
    db: Database, user: User, endpoint_id: int, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    """The endpoint's delivery log, newest first: each event's state and its attempts, oldest first."""
    await _owned(db, user, endpoint_id)
    rows = await db.fetch_all(
        "SELECT d.delivery_id, d.event_id, v.event_type, d.state, d.attempts, d.next_attempt_at, d.last_status, "
        "d.created_at FROM webhook_deliveries d JOIN webhook_events v ON v.event_id = d.event_id "
        "WHERE d.endpoint_id = :id ORDER BY d.delivery_id DESC LIMIT :limit OFFSET :offset",
        {"id": endpoint_id, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = :id", {"id": endpoint_id})
    found: list[WebhookDelivery] = []
    for row in rows:
        attempts = await db.fetch_all(
            "SELECT * FROM webhook_attempts WHERE delivery_id = :id ORDER BY attempt DESC LIMIT :limit",
            {"id": row["delivery_id"], "limit": MAX_LISTED_ATTEMPTS},
        )
        found.append(
            {
                "id": row["delivery_id"],
                "object": "webhook_delivery",
                "event_id": row["event_id"],
                "event_type": row["event_type"],
                "state": row["state"],
                "attempt_count": row["attempts"],
                "last_status": row["last_status"],
                "next_attempt_at": clock.iso_from_epoch(row["next_attempt_at"] // 1000)
                if row["state"] == "pending"
                else None,
                "created_at": clock.iso(row["created_at"]),
                "attempts": [_attempt(attempt) for attempt in reversed(attempts)],
            }
        )
    return found, total


async def redeliver(db: Database, user: User, endpoint_id: int, delivery_id: int) -> Redelivery:
    """Send a delivery again now (delivered or failed alike), with a fresh retry window; same event id."""
    async with db.transaction() as tx:
        await _owned(tx, user, endpoint_id)
        due = webhook_events.now_ms()
        row = await tx.fetch_one(
            "UPDATE webhook_deliveries SET state = 'pending', first_due_at = :due, next_attempt_at = :due "
            "WHERE delivery_id = :id AND endpoint_id = :endpoint RETURNING delivery_id, event_id",
            {"due": due, "id": delivery_id, "endpoint": endpoint_id},
        )
    if row is None:
        raise NotFound("Webhook delivery not found")
    return {"id": row["delivery_id"], "object": "webhook_delivery", "event_id": row["event_id"], "state": "pending"}


async def ping(db: Database, user: User, endpoint_id: int) -> WebhookPing:
    """Queue a `webhook.ping` event for this endpoint alone; its delivery shows in the log."""
    async with db.transaction() as tx:
        await _owned(tx, user, endpoint_id)
        event_id = await webhook_events.ping(tx, endpoint_id, user.user_id)
    return {"object": "webhook_ping", "event_id": event_id}
