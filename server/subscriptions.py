"""Subscriptions: one per account, its plan, status and the end of the paid period.

The account's effective plan (what quotas use: user_profiles.plan) follows its subscription: the plan
while the subscription is `active` or `past_due` (a failed payment keeps the plan while the payment is
retried), Free once it is `canceled`. Every change is written with its webhook event
(`subscription.created` for an account's first, `subscription.updated` after) in one transaction.
A host changes plans with `python -m server set-plan`; with Stripe configured, Stripe's events do
(server/stripe_billing.py)."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from server import clock, webhook_events
from server.accounts import User
from server.database import Database, Transaction

Status = Literal["active", "past_due", "canceled"]
STATUSES: tuple[Status, ...] = ("active", "past_due", "canceled")
_COLUMNS = "user_id, plan, status, current_period_end, stripe_customer_id, created_at, updated_at"


class Subscription(TypedDict):
    object: Literal["subscription"]
    user_id: int
    plan: str  # free, basic, premium or enterprise (a host may name others)
    status: Status
    current_period_end: str | None  # the end of the paid period; null when none was paid
    created_at: str | None  # null when the account never subscribed
    updated_at: str | None


def _public(row: dict[str, Any] | None, user_id: int, profile_plan: str) -> Subscription:
    if row is None:  # never subscribed: the plan the account is on, with no paid period
        return {
            "object": "subscription",
            "user_id": user_id,
            "plan": profile_plan,
            "status": "active",
            "current_period_end": None,
            "created_at": None,
            "updated_at": None,
        }
    return {
        "object": "subscription",
        "user_id": row["user_id"],
        "plan": row["plan"],
        "status": row["status"],
        "current_period_end": clock.iso(row["current_period_end"]),
        "created_at": clock.iso(row["created_at"]),
        "updated_at": clock.iso(row["updated_at"]),
    }


async def current(db: Database | Transaction, user: User) -> Subscription:
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM subscriptions WHERE user_id = :uid", {"uid": user.user_id})
    plan = await db.fetch_val("SELECT plan FROM user_profiles WHERE user_id = :uid", {"uid": user.user_id})
    return _public(row, user.user_id, plan or "free")


async def change(
    tx: Transaction,
    user_id: int,
    plan: str,
    status: Status = "active",
    period_end: str | None = None,
    stripe_customer_id: str | None = None,
) -> Subscription:
    """Set the account's subscription (and so its effective plan) in `tx`, with its webhook event.
    `plan` must be a known plan name (callers check); `period_end` is 'YYYY-MM-DD HH:MM:SS' UTC or None."""
    now = clock.now_text()
    existed = await tx.fetch_val(
        "SELECT user_id FROM subscriptions WHERE user_id = :uid" + tx.for_update, {"uid": user_id}
    )
    await tx.execute(
        "INSERT INTO subscriptions (user_id, plan, status, current_period_end, stripe_customer_id, created_at, "
        "updated_at) VALUES (:uid, :plan, :status, :end, :customer, :now, :now) ON CONFLICT (user_id) DO UPDATE "
        "SET plan = :plan, status = :status, current_period_end = :end, "
        "stripe_customer_id = COALESCE(:customer, subscriptions.stripe_customer_id), updated_at = :now",
        {"uid": user_id, "plan": plan, "status": status, "end": period_end, "customer": stripe_customer_id, "now": now},
    )
    effective = "free" if status == "canceled" else plan
    await tx.execute(
        "INSERT INTO user_profiles (user_id, plan, updated_at) VALUES (:uid, :plan, :now) "
        "ON CONFLICT (user_id) DO UPDATE SET plan = :plan, updated_at = :now",
        {"uid": user_id, "plan": effective, "now": now},
    )
    row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM subscriptions WHERE user_id = :uid", {"uid": user_id})
    subscription = _public(row, user_id, effective)
    event_type: webhook_events.EventType = "subscription.updated" if existed else "subscription.created"
    await webhook_events.record(tx, event_type, user_id, {"subscription": subscription})
    return subscription


async def user_of_customer(db: Database | Transaction, customer_id: str) -> int | None:
    """The account whose subscription is billed to this Stripe customer."""
    found = await db.fetch_val(
        "SELECT user_id FROM subscriptions WHERE stripe_customer_id = :customer", {"customer": customer_id}
    )
    return None if found is None else int(found)
