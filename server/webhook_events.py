"""The webhook outbox: `record(tx, ...)` writes a webhook event, and one delivery per endpoint that
subscribed to it, inside the transaction of the change the event describes. So a committed change always
has its event (the delivery worker sends it later, however often the process restarts), and a change
that rolls back leaves no event behind.

The payload is fixed here, once, and stored as the exact bytes every attempt sends:
`{"id": "evt_...", "type": ..., "created": <epoch seconds>, "data": {...}}`. The id is stable across
retries and redeliveries, so a receiver de-duplicates on it.

Who receives an event: the endpoints of the account it concerns (the user, the owner of the campaign, the
DM of the game session) and the endpoints of moderators, who administer the server and see every account's.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Final, Literal, get_args

from server import clock, codec
from server.database import Transaction

EventType = Literal[
    "user.created",
    "user.updated",
    "subscription.created",
    "subscription.updated",
    "campaign.created",
    "session.started",
    "session.ended",
]
EVENT_TYPES: Final[tuple[str, ...]] = get_args(EventType)
# Sent only to the endpoint it was asked for (POST /v1/webhooks/{id}/ping), never subscribed to.
PING = "webhook.ping"
EVENT_PREFIX = "evt_"


def now_ms() -> int:
    return int(time.time() * 1000)


def _payload(event_id: str, event_type: str, data: dict[str, Any]) -> str:
    return codec.dumps_text({"id": event_id, "type": event_type, "created": clock.now_epoch(), "data": data})


async def _insert_event(tx: Transaction, event_type: str, user_id: int | None, data: dict[str, Any]) -> str:
    event_id = EVENT_PREFIX + secrets.token_hex(12)
    await tx.execute(
        "INSERT INTO webhook_events (event_id, event_type, user_id, body, created_at) "
        "VALUES (:id, :type, :uid, :body, :now)",
        {
            "id": event_id,
            "type": event_type,
            "uid": user_id,
            "body": _payload(event_id, event_type, data),
            "now": clock.now_text(),
        },
    )
    return event_id


async def record(tx: Transaction, event_type: EventType, user_id: int, data: dict[str, Any]) -> str:
    """Write the event about account `user_id` and its deliveries in `tx`; returns the event id."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    event_id = await _insert_event(tx, event_type, user_id, data)
    # event_types is stored as ",a,b," so one LIKE finds a subscription on both databases.
    await tx.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, first_due_at, next_attempt_at, created_at) "
        "SELECT e.endpoint_id, :id, :due, :due, :now FROM webhook_endpoints e JOIN users u ON u.user_id = e.user_id "
        "WHERE e.enabled = 1 AND e.event_types LIKE :pattern AND (e.user_id = :uid OR u.is_moderator = 1)",
        {"id": event_id, "due": now_ms(), "now": clock.now_text(), "pattern": f"%,{event_type},%", "uid": user_id},
    )
    return event_id


async def ping(tx: Transaction, endpoint_id: int, user_id: int) -> str:
    """A test event for one endpoint, delivered like any other."""
    event_id = await _insert_event(tx, PING, user_id, {"webhook": {"id": endpoint_id}})
    await tx.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, first_due_at, next_attempt_at, created_at) "
        "VALUES (:endpoint, :id, :due, :due, :now)",
        {"endpoint": endpoint_id, "id": event_id, "due": now_ms(), "now": clock.now_text()},
    )
    return event_id
