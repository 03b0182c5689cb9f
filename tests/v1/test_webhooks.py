"""/v1/webhooks against a real receiver on 127.0.0.1: endpoints, signed deliveries with retries, 410,
redelivery and ping, SSRF refusal, secrets kept out of lists and logs, and the outbox's transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging

import httpx2 as httpx
import pytest

from server import accounts as accounts_module
from server import webhook_events
from server.settings import ConfigError, Settings, WebhookPolicy, from_environment
from server.webhook_delivery import WebhookDelivery
from tests.live import PASSWORD, WebhookReceiver, game_table, verify_signature

ALL_EVENTS = list(webhook_events.EVENT_TYPES)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Fast retries so the tests run in moments; 127.0.0.1 allowed for the receiver (http, loopback).
    policy = WebhookPolicy(allowed_hosts=("127.0.0.1",), retry_base=0.05, poll_interval=0.02, timeout=2, lease=15)
    return dataclasses.replace(settings, webhooks=policy)


async def _endpoint(account, url: str, events=None) -> dict:
    response = await account.api.post("/v1/webhooks", json={"url": url, "events": events or ALL_EVENTS})
    assert response.status_code == 201, response.text
    return response.json()


async def _log(account, endpoint_id: int) -> list[dict]:
    response = await account.api.get(f"/v1/webhooks/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _finished_log(server, account, endpoint_id: int) -> list[dict]:
    """The delivery log once no delivery is pending: the worker records an attempt just after the
    receiver has answered it (watched in the database: polling the API would spend the request burst)."""
    async with asyncio.timeout(10):
        while await server.services.db.fetch_val(
            "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = :id AND state = 'pending'", {"id": endpoint_id}
        ):
            pass
    return await _log(account, endpoint_id)


async def test_an_endpoint_is_created_listed_changed_and_deleted_and_its_secret_is_shown_once(accounts):
    owner, stranger = await accounts(), await accounts()
    made = await _endpoint(owner, "https://127.0.0.1/hooks", ["campaign.created"])
    assert made["secret"].startswith("whsec_") and made["events"] == ["campaign.created"] and made["enabled"]
    listed = await owner.api.get("/v1/webhooks")
    one = await owner.api.get(f"/v1/webhooks/{made['id']}")
    changed = await owner.api.patch(f"/v1/webhooks/{made['id']}", json={"enabled": False, "events": ["user.updated"]})
    for answer in (listed, one, changed):
        assert answer.status_code == 200 and made["secret"] not in answer.text and "secret" not in answer.text
    assert listed.json()["data"][0]["id"] == made["id"]
    assert changed.json()["enabled"] is False and changed.json()["events"] == ["user.updated"]
    assert (await stranger.api.get(f"/v1/webhooks/{made['id']}")).status_code == 404
    assert (await stranger.api.delete(f"/v1/webhooks/{made['id']}")).status_code == 404
    assert (await owner.api.delete(f"/v1/webhooks/{made['id']}")).status_code == 204
    assert (await owner.api.get(f"/v1/webhooks/{made['id']}")).status_code == 404


REFUSED_URLS = [
    "https://localhost/hooks",  # resolves to loopback, and localhost is not an allowed host
    "https://10.1.2.3/hooks",
    "https://192.168.0.10/hooks",
    "https://169.254.169.254/latest/meta-data",  # the cloud metadata address (link-local)
    "https://[::1]/hooks",
    "https://[::ffff:10.0.0.1]/hooks",
    "https://0.0.0.0/hooks",
    "http://example.com/hooks",  # plain http, to a host not allowed
    "https://user:pw@127.0.0.1/hooks",
    "ftp://127.0.0.1/hooks",
]


async def test_urls_into_private_networks_and_plain_http_are_refused(accounts):
    owner = await accounts()
    for url in REFUSED_URLS:
        refused = await owner.api.post("/v1/webhooks", json={"url": url, "events": ["user.updated"]})
        assert refused.status_code == 400, (url, refused.text)
        assert refused.json()["error"] == "validation_failed" and refused.json()["details"][0]["field"] == "url"
    assert (await owner.api.get("/v1/webhooks")).json()["data"] == []


async def test_bad_events_and_too_many_endpoints_are_refused(accounts):
    owner = await accounts()
    for events in ([], ["user.deleted"], "user.updated"):
        answer = await owner.api.post("/v1/webhooks", json={"url": "https://127.0.0.1/h", "events": events})
        assert answer.status_code == 400, answer.text
    for _ in range(16):
        await _endpoint(owner, "https://127.0.0.1/h", ["user.updated"])
    over = await owner.api.post("/v1/webhooks", json={"url": "https://127.0.0.1/h", "events": ["user.updated"]})
    assert over.status_code == 400 and "16" in over.json()["details"][0]["message"]


async def test_signed_events_survive_two_failures_with_growing_delays_and_arrive_once_after_dedup(
    server, accounts, caplog
):
    caplog.set_level(logging.INFO, logger="server.webhooks")
    owner = await accounts()
    async with WebhookReceiver(fail_first=2) as receiver:
        endpoint = await _endpoint(owner, receiver.url)
        receiver.secret = endpoint["secret"]
        campaign = await owner.api.post("/v1/campaigns", json={"name": "Castle Caldwell"})
        assert (await owner.api.patch("/v1/users/me", json={"display_name": "Morgan"})).status_code == 200
        await receiver.wait_for(lambda: len(receiver.delivered) == 2)
    assert all(request["verified"] for request in receiver.requests)
    assert sorted(receiver.seen.values()) == [3, 3]  # two refusals and the delivery, each
    by_type = {payload["type"]: payload for payload in receiver.delivered.values()}
    assert set(by_type) == {"campaign.created", "user.updated"}
    for payload in by_type.values():
        assert set(payload) == {"id", "type", "created", "data"} and payload["id"].startswith("evt_")
    assert by_type["campaign.created"]["data"]["campaign"]["id"] == campaign.json()["id"]
    assert by_type["user.updated"]["data"]["user"]["display_name"] == "Morgan"
    for request in receiver.requests:  # the body sent is the stored payload, byte for byte, every time
        assert json.loads(request["body"]) == receiver.delivered[request["payload"]["id"]]
    log = await _finished_log(server, owner, endpoint["id"])
    assert [entry["state"] for entry in log] == ["delivered", "delivered"]
    for entry in log:
        attempts = entry["attempts"]
        assert [a["status_code"] for a in attempts] == [503, 503, 200]
        assert attempts[0]["retry_in_ms"] < attempts[1]["retry_in_ms"] and attempts[2]["retry_in_ms"] is None
        assert attempts[0]["response_excerpt"] == "answer 503" and all(a["duration_ms"] >= 0 for a in attempts)
        arrivals = [r["at"] for r in receiver.requests if r["payload"]["id"] == entry["event_id"]]
        for (before, after), attempt in zip(itertools.pairwise(arrivals), attempts, strict=False):
            assert (after - before) * 1000 >= attempt["retry_in_ms"]  # never sent before its retry was due
    assert endpoint["secret"] not in caplog.text and "evt_" in caplog.text


async def test_a_forged_or_stale_signature_does_not_verify():
    body = b'{"id":"evt_1"}'
    import hashlib
    import hmac
    import time

    now = int(time.time())
    good = hmac.new(b"whsec_x", f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert verify_signature("whsec_x", f"t={now},v1={good}", body)
    assert not verify_signature("whsec_y", f"t={now},v1={good}", body)
    assert not verify_signature("whsec_x", f"t={now},v1={good}", body + b" ")
    old = now - 301
    stale = hmac.new(b"whsec_x", f"{old}.".encode() + body, hashlib.sha256).hexdigest()
    assert not verify_signature("whsec_x", f"t={old},v1={stale}", body)


async def test_410_disables_the_endpoint_and_redelivery_sends_the_same_event_again(server, accounts):
    owner = await accounts()
    async with WebhookReceiver() as receiver:
        receiver.answer = lambda request: 410
        endpoint = await _endpoint(owner, receiver.url, ["campaign.created"])
        receiver.secret = endpoint["secret"]
        await owner.api.post("/v1/campaigns", json={"name": "The Lost City"})
        await receiver.wait_for(lambda: len(receiver.requests) == 1)
        async with asyncio.timeout(10):  # the worker disables it right after the answer
            while await server.services.db.fetch_val(
                "SELECT enabled FROM webhook_endpoints WHERE endpoint_id = :id", {"id": endpoint["id"]}
            ):
                pass
        disabled = (await owner.api.get(f"/v1/webhooks/{endpoint['id']}")).json()
        assert disabled["disabled_reason"] == "the endpoint answered 410 Gone"
        [notice] = (await owner.api.get("/v1/notifications")).json()["data"]
        assert notice["kind"] == "webhook_disabled" and notice["data"]["webhook_id"] == endpoint["id"]
        [entry] = await _log(owner, endpoint["id"])
        assert entry["state"] == "failed" and entry["attempts"][0]["status_code"] == 410
        receiver.answer = None
        enabled = await owner.api.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": True})
        assert enabled.json()["enabled"] and enabled.json()["disabled_reason"] is None
        again = await owner.api.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{entry['id']}/redeliver")
        assert again.status_code == 202 and again.json()["event_id"] == entry["event_id"]
        await receiver.wait_for(lambda: entry["event_id"] in receiver.delivered)
        ping = await owner.api.post(f"/v1/webhooks/{endpoint['id']}/ping")
        assert ping.status_code == 202
        await receiver.wait_for(lambda: ping.json()["event_id"] in receiver.delivered)
    assert receiver.delivered[ping.json()["event_id"]]["type"] == "webhook.ping"
    assert [r["payload"]["id"] for r in receiver.requests[:2]] == [entry["event_id"]] * 2
    other = await accounts()
    assert (await other.api.post(f"/v1/webhooks/{endpoint['id']}/ping")).status_code == 404
    missing = await owner.api.post(f"/v1/webhooks/{endpoint['id']}/deliveries/999999/redeliver")
    assert missing.status_code == 404


async def test_events_go_to_the_accounts_they_concern_and_to_moderators(server, accounts):
    owner, bystander = await accounts(), await accounts()
    await accounts_module.create_user(server.services.db, "webhookmod", "mod@example.com", PASSWORD, is_moderator=True)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as moderator, WebhookReceiver() as receiver:
        token = await moderator.post("/v1/auth/login", json={"identifier": "webhookmod", "password": PASSWORD})
        moderator.headers["Authorization"] = f"Bearer {token.json()['token']}"
        made = await moderator.post("/v1/webhooks", json={"url": receiver.url + "/moderator", "events": ALL_EVENTS})
        assert made.status_code == 201, made.text
        for account in (owner, bystander):
            await _endpoint(account, f"{receiver.url}/{account.username}")
        await owner.api.post("/v1/campaigns", json={"name": "Night's Dark Terror"})
        await accounts()  # a registration: user.created, for moderators only
        await receiver.wait_for(lambda: len(receiver.requests) == 3)
    seen = sorted((request["path"], request["payload"]["type"]) for request in receiver.requests)
    assert seen == sorted(
        [
            (f"/hooks/{owner.username}", "campaign.created"),
            ("/hooks/moderator", "campaign.created"),
            ("/hooks/moderator", "user.created"),
        ]
    )


async def test_a_change_that_rolls_back_leaves_no_event_and_sends_nothing(server, accounts):
    owner = await accounts()
    db = server.services.db
    async with WebhookReceiver() as receiver:
        endpoint = await _endpoint(owner, receiver.url, ["campaign.created"])
        before = await db.fetch_val("SELECT count(*) FROM webhook_events")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO campaigns (owner_user_id, name, system, created_at, updated_at) "
                    "VALUES (:uid, 'Doomed', 'becmi', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                    {"uid": owner.user_id},
                )
                await webhook_events.record(tx, "campaign.created", owner.user_id, {"campaign": {"name": "Doomed"}})
                raise RuntimeError("the change fails after recording its event")
        assert await db.fetch_val("SELECT count(*) FROM webhook_events") == before
        assert await db.fetch_val("SELECT count(*) FROM campaigns WHERE name = 'Doomed'") == 0
        # A later event, delivered in order after anything due before it, is the barrier.
        ping = (await owner.api.post(f"/v1/webhooks/{endpoint['id']}/ping")).json()
        await receiver.wait_for(lambda: ping["event_id"] in receiver.delivered)
    assert [r["payload"]["type"] for r in receiver.requests] == ["webhook.ping"]


async def test_every_committed_change_has_exactly_one_event(server, accounts):
    owner = await accounts()
    db = server.services.db
    await owner.api.post("/v1/campaigns", json={"name": "One"})
    await owner.api.patch("/v1/users/me", json={"time_zone": "Europe/Paris"})
    refused = await owner.api.patch("/v1/users/me", json={"time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    rows = await db.fetch_all(
        "SELECT event_type FROM webhook_events WHERE user_id = :uid ORDER BY created_at, event_type",
        {"uid": owner.user_id},
    )
    assert sorted(row["event_type"] for row in rows) == ["campaign.created", "user.created", "user.updated"]


async def test_starting_and_ending_a_game_session_reach_its_dms_endpoint(server, accounts):
    dm, _, session_id = await game_table(server, players=1)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api, WebhookReceiver() as receiver:
        logged_in = await api.post("/v1/auth/login", json={"identifier": dm.user["username"], "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {logged_in.json()['token']}"
        made = await api.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["session.started", "session.ended"]}
        )
        receiver.secret = made.json()["secret"]
        await dm.ok("/api/session/start.php", {"session_id": session_id})
        await dm.ok("/api/session/end.php", {"session_id": session_id})
        await receiver.wait_for(lambda: len(receiver.delivered) == 2)
    payloads = [request["payload"] for request in receiver.requests]
    assert [p["type"] for p in payloads] == ["session.started", "session.ended"]
    assert [p["data"]["session"]["status"] for p in payloads] == ["active", "completed"]
    assert all(p["data"]["session"]["id"] == session_id for p in payloads)
    assert all(request["verified"] for request in receiver.requests)


def test_the_webhook_settings_are_read_from_the_environment():
    policy = from_environment(
        {
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1, Hooks.Internal",
            "WEBHOOK_RETRY_BASE_MS": "250",
            "WEBHOOK_RETRY_FOR": "9",
        }
    ).webhooks
    assert policy.allowed_hosts == ("127.0.0.1", "hooks.internal")
    assert policy.retry_base == 0.25 and policy.retry_for == 9 and policy.lease >= 3 * policy.timeout
    with pytest.raises(ConfigError, match="WEBHOOK_LEASE"):
        from_environment({"WEBHOOK_TIMEOUT": "10", "WEBHOOK_LEASE": "10"})


async def test_pruning_deletes_finished_deliveries_and_keeps_pending_ones(server, accounts):
    owner = await accounts()
    async with WebhookReceiver() as receiver:
        live = await _endpoint(owner, receiver.url)
        paused = await _endpoint(owner, receiver.url)
        await owner.api.patch(f"/v1/webhooks/{paused['id']}", json={"enabled": False})
        ping = (await owner.api.post(f"/v1/webhooks/{live['id']}/ping")).json()
        await receiver.wait_for(lambda: ping["event_id"] in receiver.delivered)
        assert (await owner.api.post(f"/v1/webhooks/{paused['id']}/ping")).status_code == 202
        await _finished_log(server, owner, live["id"])
    await WebhookDelivery(server.services.db, WebhookPolicy(keep_days=0)).prune()
    assert await _log(owner, live["id"]) == []
    assert [entry["state"] for entry in await _log(owner, paused["id"])] == ["pending"]


async def test_a_receiver_that_does_not_answer_in_time_gets_the_event_again(server, accounts):
    owner = await accounts()
    async with WebhookReceiver() as receiver:
        receiver.answer = lambda request: None if len(receiver.requests) == 1 else 200  # hold the first
        endpoint = await _endpoint(owner, receiver.url, ["campaign.created"])
        receiver.secret = endpoint["secret"]
        await owner.api.post("/v1/campaigns", json={"name": "Temple of Elemental Evil"})
        await receiver.wait_for(lambda: len(receiver.delivered) == 1)
        [entry] = await _finished_log(server, owner, endpoint["id"])
    assert [(a["status_code"], a["error"]) for a in entry["attempts"]] == [(None, "timeout"), (200, None)]
    assert len({request["payload"]["id"] for request in receiver.requests}) == 1
