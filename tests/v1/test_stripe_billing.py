"""Stripe's webhook, signed locally with a test secret as Stripe signs: a subscription update changes the
plan (and emits subscription.updated), a badly signed one is 400, a repeated event is applied once.
Checkout for upgrades against a real local HTTP server standing in for Stripe's API (never the network):
the official library's request reaches it, its answer's URL reaches the buyer, and the completed checkout
changes the plan."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import httpx2 as httpx
import pytest

from server.settings import Settings, WebhookPolicy
from tests.live import LiveServer, WebhookReceiver, asgi_request, asgi_server, free_port

SECRET = "whsec_stripe_test_secret"
API_KEY = "sk_test_stand_in"


class StripeStandIn:
    """A real HTTP server answering as Stripe's API does for creating a Checkout Session (or with the
    error in `fail_with`), keeping every request it gets."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: tuple[int, dict[str, Any]] | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body, headers = await asgi_request(scope, receive)
        form = dict(parse_qsl(body.decode()))
        self.requests.append({"method": scope["method"], "path": scope["path"], "headers": headers, "form": form})
        status, answer = self.fail_with or (200, self._session(form))
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    def _session(self, form: dict[str, str]) -> dict[str, Any]:
        number = len(self.requests)
        return {
            "id": f"cs_test_{number}",
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{number}",
            "client_reference_id": form.get("client_reference_id"),
        }


@pytest.fixture
async def stripe_api() -> AsyncIterator[StripeStandIn]:
    stand_in = StripeStandIn()
    async with asgi_server(stand_in.app, stand_in.port):
        yield stand_in


@pytest.fixture
def settings(settings: Settings, stripe_api: StripeStandIn) -> Settings:
    policy = WebhookPolicy(allowed_hosts=("127.0.0.1",), retry_base=0.05, poll_interval=0.02, timeout=5, lease=15)
    return dataclasses.replace(
        settings,
        webhooks=policy,
        stripe_webhook_secret=SECRET,
        stripe_prices=(("price_basic", "basic"), ("price_premium", "premium")),
        stripe_secret_key=API_KEY,
        stripe_api_base=stripe_api.url,
        public_url="https://vtt.example.com",
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


def _completed(event_id: str, user_id: int, plan: str) -> bytes:
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": "cus_checkout",
        "subscription": "sub_checkout",
        "client_reference_id": str(user_id),
        "metadata": {"user_id": str(user_id), "plan": plan},
    }
    event = {"id": event_id, "object": "event", "type": "checkout.session.completed", "data": {"object": session}}
    return json.dumps(event).encode()


async def test_checkout_asks_stripe_for_a_session_of_the_plans_price_and_its_completion_upgrades(
    server, accounts, stripe_api
):
    account = await accounts()
    answer = await account.api.post("/v1/billing/checkout", json={"plan": "premium"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "object": "checkout_session",
        "id": "cs_test_1",
        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
        "plan": "premium",
    }
    [asked] = stripe_api.requests
    assert (asked["method"], asked["path"]) == ("POST", "/v1/checkout/sessions")
    assert asked["headers"]["authorization"] == f"Bearer {API_KEY}"
    form = asked["form"]
    assert form["mode"] == "subscription" and form["line_items[0][price]"] == "price_premium"
    assert form["client_reference_id"] == form["subscription_data[metadata][user_id]"] == str(account.user_id)
    assert form["customer_email"] == f"{account.username}@example.com"
    assert form["success_url"].startswith("https://vtt.example.com/")
    for plan, status, code in (("free", 400, "invalid_choice"), ("enterprise", 400, "invalid_choice")):
        refused = await account.api.post("/v1/billing/checkout", json={"plan": plan})
        assert refused.status_code == status and refused.json()["details"][0]["code"] == code, refused.text
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as stripe:
        payload = _completed("evt_checkout_1", account.user_id, "premium")
        applied = await stripe.post("/v1/billing/stripe-webhook", content=payload, headers=_signed(payload))
        assert applied.json()["result"] == "applied"
    subscription = (await account.api.get("/v1/subscription")).json()
    assert (subscription["plan"], subscription["status"]) == ("premium", "active")
    assert (await account.api.get("/v1/users/me")).json()["plan"] == "premium"
    lower = await account.api.post("/v1/billing/checkout", json={"plan": "basic"})
    assert lower.status_code == 409 and len(stripe_api.requests) == 1


async def test_checkout_is_503_when_stripe_refuses_and_404_when_not_configured(server, settings, accounts, stripe_api):
    account = await accounts()
    stripe_api.fail_with = (500, {"error": {"type": "api_error", "message": "An unknown error occurred"}})
    failed = await account.api.post("/v1/billing/checkout", json={"plan": "basic"})
    assert failed.status_code == 503 and failed.json()["error"] == "service_unavailable"
    unconfigured = await LiveServer(dataclasses.replace(settings, stripe_secret_key=None)).start()
    try:
        async with httpx.AsyncClient(base_url=unconfigured.url, timeout=30, headers=account.bearer()) as api:
            answer = await api.post("/v1/billing/checkout", json={"plan": "basic"})
        assert answer.status_code == 404 and "not configured" in answer.json()["message"]
    finally:
        await unconfigured.stop()
