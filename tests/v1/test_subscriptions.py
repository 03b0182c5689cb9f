"""Subscriptions: GET /v1/subscription, plan changes by the host (set-plan) with their webhook events."""

from __future__ import annotations

import dataclasses

import httpx2 as httpx
import pytest

from server import profiles
from server.settings import Settings, WebhookPolicy
from tests.live import LiveServer, WebhookReceiver, game_table


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = WebhookPolicy(allowed_hosts=("127.0.0.1",), retry_base=0.05, poll_interval=0.02, timeout=5, lease=15)
    return dataclasses.replace(settings, webhooks=policy)


async def test_an_account_starts_active_on_free_without_a_paid_period(accounts):
    account = await accounts()
    answer = await account.api.get("/v1/subscription")
    assert answer.status_code == 200
    assert answer.json() | {"user_id": 0} == {
        "object": "subscription",
        "user_id": 0,
        "plan": "free",
        "status": "active",
        "current_period_end": None,
        "created_at": None,
        "updated_at": None,
    }


async def test_set_plan_changes_the_subscription_and_the_plan_and_emits_created_then_updated(server, accounts):
    account = await accounts()
    async with WebhookReceiver() as receiver:
        made = await account.api.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["subscription.created", "subscription.updated"]}
        )
        receiver.secret = made.json()["secret"]
        await profiles.set_plan(server.services.db, account.username, "premium")
        await profiles.set_plan(server.services.db, account.username, "basic")
        await receiver.wait_for(lambda: len(receiver.delivered) == 2)
    payloads = sorted(receiver.delivered.values(), key=lambda payload: payload["data"]["subscription"]["plan"])
    assert [(p["type"], p["data"]["subscription"]["plan"]) for p in payloads] == [
        ("subscription.updated", "basic"),
        ("subscription.created", "premium"),
    ]
    subscription = (await account.api.get("/v1/subscription")).json()
    assert subscription["plan"] == "basic" and subscription["status"] == "active" and subscription["created_at"]
    assert (await account.api.get("/v1/users/me")).json()["plan"] == "basic"
    assert all(request["verified"] for request in receiver.requests)


async def test_without_stripe_configured_its_webhook_path_is_404(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as stripe:
        answer = await stripe.post(
            "/v1/billing/stripe-webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"}
        )
    assert answer.status_code == 404


@pytest.mark.postgres
async def test_subscriptions_notifications_and_webhooks_on_postgresql(postgres_url, tmp_path):
    settings = Settings(database_url=postgres_url, upload_dir=tmp_path / "uploads")
    server = await LiveServer(settings).start()
    try:
        _, [player], _ = await game_table(server, players=1)
        for plan in ("premium", "basic"):
            await profiles.set_plan(server.services.db, player.user["username"], plan)
        subscription = (await player.http.get("/v1/subscription")).json()
        assert (subscription["plan"], subscription["status"]) == ("basic", "active")
        [invitation] = (await player.http.get("/v1/notifications")).json()["data"]
        assert invitation["kind"] == "invitation"
        made = await player.http.post(
            "/v1/webhooks",
            json={"url": "https://127.0.0.1/hooks", "events": ["user.updated"]},
            headers={"X-CSRF-Token": player.csrf},
        )
        assert made.status_code == 400  # 127.0.0.1 is not an allowed host here
        types = await server.services.db.fetch_all(
            "SELECT event_type FROM webhook_events WHERE user_id = :uid", {"uid": player.user_id}
        )
        assert sorted(row["event_type"] for row in types) == [
            "subscription.created",
            "subscription.updated",
            "user.created",
        ]
    finally:
        await server.stop()
