"""Stripe billing: the only module that imports `stripe`. Checkout Sessions for upgrades, and Stripe's
webhook events about subscriptions change the account's subscription (server/subscriptions.py).

Contract of `checkout`: a Stripe Checkout Session (mode subscription) for the price of the plan asked
(STRIPE_PRICES), created with STRIPE_SECRET_KEY; the account is named in the session's
`client_reference_id` and `metadata.user_id` and in the subscription's `metadata.user_id`, so the events
that follow find it. NotFound when Stripe is not configured (as its webhook's path); Unavailable (503) when
Stripe does not answer; Invalid for a plan without a price; Conflict for a plan that is not above the
account's current one.

Contract of `handle_event`: the signature is checked with the official library against the raw body and
STRIPE_WEBHOOK_SECRET (BadRequest when it does not verify or is older than the library's five-minute
tolerance). `customer.subscription.created/updated/deleted` set the plan of the price
(STRIPE_PRICES), the status and the paid period of the account named by the subscription's
`metadata.user_id`, else by its Stripe customer. `checkout.session.completed` links the account (`client_reference_id`)
to its Stripe customer and puts it on the plan bought (`metadata.plan`), unless a subscription event was
applied first. Each Stripe event id is applied once (Stripe retries and may send an event twice); others
are acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import stripe
from typing_extensions import TypedDict

from server import codec, login_sessions, subscriptions
from server.accounts import User
from server.database import MAX_INTEGER, Database, Transaction
from server.errors import BadRequest, Conflict, Invalid, NotFound, Unavailable
from server.plans import PLAN_NAMES

log = logging.getLogger("server.billing")
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
CHECKOUT_COMPLETED = "checkout.session.completed"
STRIPE_TIMEOUT = 20  # seconds one call to Stripe may take
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


class CheckoutSession(TypedDict):
    object: Literal["checkout_session"]
    id: str  # Stripe's
    url: str | None  # send the buyer there (Stripe always gives one for a hosted Checkout Session)
    plan: str


@dataclass(frozen=True)
class Checkout:
    """What creating a Checkout Session needs from the settings."""

    secret_key: str | None
    prices: tuple[tuple[str, str], ...]  # (Stripe price id, plan name)
    public_url: str  # Stripe sends the buyer back here
    api_base: str | None = None  # Stripe's API (another address only for a stand-in in tests)


async def checkout(db: Database, user: User, plan: str, config: Checkout) -> CheckoutSession:
    """A Checkout Session for `plan` (see the module's contract): `{object, id, url, plan}`."""
    if not config.secret_key:
        raise NotFound("Billing through Stripe is not configured")
    price = next((price for price, name in config.prices if name == plan), None)
    if price is None:
        raise Invalid({"plan": f"The {plan} plan cannot be bought here"}, codes={"plan": "invalid_choice"})
    current = await subscriptions.current(db, user)
    if PLAN_NAMES.index(plan) <= PLAN_NAMES.index(current["plan"]):
        raise Conflict(f"You are already on the {current['plan']} plan; a change of plan goes through support")
    customer = await db.fetch_val(
        "SELECT stripe_customer_id FROM subscriptions WHERE user_id = :uid", {"uid": user.user_id}
    )
    owner = {"user_id": str(user.user_id), "plan": plan}
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": f"{config.public_url}/?checkout=success",
        "cancel_url": f"{config.public_url}/?checkout=canceled",
        "client_reference_id": str(user.user_id),
        "metadata": owner,
        "subscription_data": {"metadata": owner},
    }
    if customer:
        params["customer"] = customer
    else:
        params["customer_email"] = user.email
    client = stripe.StripeClient(
        config.secret_key,
        base_addresses={"api": config.api_base} if config.api_base else None,
        http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT),
        max_network_retries=1,
    )
    try:
        session = await asyncio.to_thread(client.v1.checkout.sessions.create, params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        log.warning("Stripe refused a Checkout Session: %s", type(exc).__name__)
        raise Unavailable("Stripe did not create the checkout session; try again later") from None
    return {"object": "checkout_session", "id": session.id, "url": session.url, "plan": plan}


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
    if event.get("type") == CHECKOUT_COMPLETED:
        return await _checkout_completed(db, event)
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
        if not await _first_time(tx, event):
            return "duplicate"
        user_id = await _account(tx, subscription)
        if user_id is None:
            log.warning("Stripe event %s: no account for its subscription; ignored", event["id"])
            return "ignored: unknown account"
        customer = subscription.get("customer") if isinstance(subscription.get("customer"), str) else None
        await subscriptions.change(tx, user_id, str(plan), status, _period_end(subscription), customer)
    login_sessions.forget(db, user_id)  # the plan is part of a remembered login session
    return "applied"


async def _first_time(tx: Transaction, event: dict[str, Any]) -> bool:
    """Note the Stripe event as applied; False when it already was."""
    first = await tx.fetch_val(
        "INSERT INTO stripe_events (event_id, event_type, received_at) VALUES (:id, :type, :now) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        {"id": str(event["id"]), "type": event["type"], "now": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")},
    )
    return first is not None


async def _checkout_completed(db: Database, event: dict[str, Any]) -> str:
    session = event["data"]["object"]
    plan = (session.get("metadata") or {}).get("plan")
    customer = session.get("customer")
    if plan not in PLAN_NAMES or not isinstance(customer, str):
        return "ignored: not one of our checkouts"
    async with db.transaction() as tx:
        if not await _first_time(tx, event):
            return "duplicate"
        user_id = await _account(tx, {"metadata": {"user_id": session.get("client_reference_id")}})
        if user_id is None:
            log.warning("Stripe event %s: no account for its checkout; ignored", event["id"])
            return "ignored: unknown account"
        known = await tx.fetch_one(
            "SELECT plan, stripe_customer_id FROM subscriptions WHERE user_id = :uid" + tx.for_update,
            {"uid": user_id},
        )
        if known is not None and known["stripe_customer_id"] == customer and known["plan"] == plan:
            return "applied before"  # the subscription's own event came first and carries more
        await subscriptions.change(tx, user_id, str(plan), "active", None, customer)
    login_sessions.forget(db, user_id)  # the plan is part of a remembered login session
    return "applied"
