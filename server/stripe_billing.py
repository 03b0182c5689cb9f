"""Stripe billing: the only module that imports `stripe`. Stripe's webhook events about subscriptions
change the account's subscription (server/subscriptions.py).

Contract of `handle_event`: the signature is checked with the official library against the raw body and
STRIPE_WEBHOOK_SECRET (BadRequest when it does not verify or is older than the library's five-minute
tolerance). `customer.subscription.created/updated/deleted` set the plan of the price
(STRIPE_PRICES), the status and the paid period of the account named by the subscription's
`metadata.user_id`, else by its Stripe customer. Each Stripe event id is applied once (Stripe retries
and may send an event twice); others are acknowledged and ignored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe

from server import codec, login_sessions, subscriptions
from server.database import MAX_INTEGER, Database, Transaction
from server.errors import BadRequest
from server.plans import PLAN_NAMES

log = logging.getLogger("server.billing")
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
# Stripe's subscription statuses as ours: a payment being retried keeps the plan (past_due).
_STATUS: dict[str, subscriptions.Status] = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "incomplete": "past_due",
    "canceled": "canceled",
    "incomplete_expired": "canceled",
    "paused": "canceled",
}


def verified(payload: bytes, header: str, secret: str) -> dict[str, Any]:
    """The event, if Stripe signed this body; BadRequest otherwise."""
    try:
        stripe.Webhook.construct_event(payload, header, secret)
    except stripe.SignatureVerificationError:
        raise BadRequest("The Stripe-Signature header does not verify") from None
    except ValueError:
        raise BadRequest("The Stripe event is not valid JSON") from None
    event: dict[str, Any] = codec.loads(payload)
    return event


def _period_end(subscription: dict[str, Any]) -> str | None:
    # Newer Stripe API versions keep the period on the subscription's items.
    items = subscription.get("items", {}).get("data") or [{}]
    epoch = subscription.get("current_period_end") or items[0].get("current_period_end")
    return None if epoch is None else datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S")


async def _account(tx: Transaction, subscription: dict[str, Any]) -> int | None:
    user_id = str((subscription.get("metadata") or {}).get("user_id", ""))
    if user_id.isascii() and user_id.isdigit() and int(user_id) <= MAX_INTEGER:
        found = await tx.fetch_val("SELECT user_id FROM users WHERE user_id = :uid", {"uid": int(user_id)})
        if found is not None:
            return int(found)
    customer = subscription.get("customer")
    return await subscriptions.user_of_customer(tx, customer) if isinstance(customer, str) else None


async def handle_event(db: Database, prices: dict[str, str], event: dict[str, Any]) -> str:
    """Apply a verified Stripe event; returns what was done (for the answer and the log)."""
    if event.get("type") not in SUBSCRIPTION_EVENTS:
        return "ignored"
    subscription = event["data"]["object"]
    items = subscription.get("items", {}).get("data") or [{}]
    plan = prices.get(str((items[0].get("price") or {}).get("id")))
    if plan not in PLAN_NAMES:
        log.warning("Stripe event %s: its price is not in STRIPE_PRICES; ignored", event.get("id"))
        return "ignored: unknown price"
    deleted = event["type"] == "customer.subscription.deleted"
    status = "canceled" if deleted else _STATUS.get(str(subscription.get("status")), "past_due")
    async with db.transaction() as tx:
        first = await tx.fetch_val(
            "INSERT INTO stripe_events (event_id, event_type, received_at) VALUES (:id, :type, :now) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            {"id": str(event["id"]), "type": event["type"], "now": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")},
        )
        if first is None:
            return "duplicate"
        user_id = await _account(tx, subscription)
        if user_id is None:
            log.warning("Stripe event %s: no account for its subscription; ignored", event["id"])
            return "ignored: unknown account"
        customer = subscription.get("customer") if isinstance(subscription.get("customer"), str) else None
        await subscriptions.change(tx, user_id, str(plan), status, _period_end(subscription), customer)
    login_sessions.forget(user_id)  # the plan is part of a remembered login session
    return "applied"
