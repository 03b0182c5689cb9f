"""An endpoint that fails through the whole retry period is disabled, and its owner is notified."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from server.settings import Settings, WebhookPolicy
from tests.live import WebhookReceiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A retry period of half a second stands for the day a real one lasts.
    policy = WebhookPolicy(
        allowed_hosts=("127.0.0.1",), retry_base=0.05, retry_for=0.5, poll_interval=0.02, timeout=2, lease=15
    )
    return dataclasses.replace(settings, webhooks=policy)


async def test_an_endpoint_failing_for_the_whole_retry_period_is_disabled_and_its_owner_notified(server, accounts):
    owner = await accounts()
    async with WebhookReceiver() as receiver:
        receiver.answer = lambda request: 500
        made = await owner.api.post("/v1/webhooks", json={"url": receiver.url, "events": ["campaign.created"]})
        endpoint = made.json()
        await owner.api.post("/v1/campaigns", json={"name": "Red Hand of Doom"})
        # Watched in the database: polling the API would spend the plan's request burst.
        async with asyncio.timeout(20):
            while await server.services.db.fetch_val(
                "SELECT enabled FROM webhook_endpoints WHERE endpoint_id = :id", {"id": endpoint["id"]}
            ):
                pass  # the worker disables it after the last attempt of the period
    found = (await owner.api.get(f"/v1/webhooks/{endpoint['id']}")).json()
    assert found["disabled_reason"] == "no delivery succeeded during the whole retry period"
    [entry] = (await owner.api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()["data"]
    assert entry["state"] == "failed" and len(entry["attempts"]) == len(receiver.requests) >= 2
    assert all(attempt["status_code"] == 500 for attempt in entry["attempts"])
    [notice] = (await owner.api.get("/v1/notifications")).json()["data"]
    assert notice["kind"] == "webhook_disabled" and notice["data"]["reason"] == found["disabled_reason"]
