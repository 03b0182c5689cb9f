"""Stripe's webhook, signed locally with a test secret as Stripe signs: a subscription update changes the
plan (and emits subscription.updated), a badly signed one is 400, a repeated event is applied once."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time

import httpx2 as httpx
import pytest

from server.settings import Settings, WebhookPolicy
from tests.live import WebhookReceiver

SECRET = "whsec_stripe_test_secret"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = WebhookPolicy(allowed_hosts=("127.0.0.1",), retry_base=0.05, poll_interval=0.02, timeout=5, lease=15)
    return dataclasses.replace(
        settings,
        webhooks=policy,
        stripe_webhook_secret=SECRET,
        stripe_prices=(("price_basic", "basic"), ("price_premium", "premium")),
    )


def _event(event_id: str, user_id: int, price: str, status: str = "active", kind: str = "updated") -> bytes:
    subscription = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "metadata": {"user_id": str(user_id)},
        "items": {"object": "list", "data": [{"price": {"id": price}, "current_period_end": 4102444800}]},
    }
    event = {
        "id": event_id,
        "object": "event",
        "type": f"customer.subscription.{kind}",
        "data": {"object": subscription},
    }
    return json.dumps(event).encode()


def _signed(payload: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}


async def test_a_signed_subscription_update_changes_the_plan_once_and_a_badly_signed_one_is_400(server, accounts):
    account = await accounts()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as stripe, WebhookReceiver() as receiver:
        made = await account.api.post("/v1/webhooks", json={"url": receiver.url, "events": ["subscription.created"]})
        receiver.secret = made.json()["secret"]
        payload = _event("evt_stripe_1", account.user_id, "price_premium")
        for headers in (_signed(payload, "whsec_wrong"), _signed(payload, at=int(time.time()) - 3600), {}):
            refused = await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=headers)
            assert refused.status_code == 400, refused.text
        assert (await account.api.get("/v1/subscription")).json()["plan"] == "free"
        applied = await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=_signed(payload))
        assert applied.status_code == 200 and applied.json()["result"] == "applied"
        again = await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=_signed(payload))
        assert again.json()["result"] == "duplicate"
        await receiver.wait_for(lambda: len(receiver.delivered) == 1)
    subscription = (await account.api.get("/v1/subscription")).json()
    assert subscription["plan"] == "premium" and subscription["status"] == "active"
    assert subscription["current_period_end"] == "2100-01-01T00:00:00Z"
    [delivered] = receiver.delivered.values()
    assert delivered["type"] == "subscription.created" and delivered["data"]["subscription"]["plan"] == "premium"


async def test_past_due_keeps_the_plan_and_cancellation_returns_to_free(server, accounts):
    account = await accounts()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as stripe:
        for event_id, status, kind in (("evt_a", "active", "created"), ("evt_b", "past_due", "updated")):
            payload = _event(event_id, account.user_id, "price_basic", status, kind)
            answer = await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=_signed(payload))
            assert answer.is_success
        past_due = (await account.api.get("/v1/subscription")).json()
        assert (past_due["plan"], past_due["status"]) == ("basic", "past_due")
        assert (await account.api.get("/v1/users/me")).json()["plan"] == "basic"
        payload = _event("evt_c", 0, "price_basic", "canceled", "deleted")  # found by its Stripe customer
        assert (await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=_signed(payload))).is_success
    assert (await account.api.get("/v1/subscription")).json()["status"] == "canceled"
    assert (await account.api.get("/v1/users/me")).json()["plan"] == "free"
