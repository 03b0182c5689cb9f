"""Every typed /v1 answer, taken for real, against the served API document: the schema of each answer is the
route's TypedDict, and no answer may carry a key the document does not name (an answer that grows a field
must grow its TypedDict too)."""

from __future__ import annotations

import httpx2 as httpx

from server import webhook_events
from tests.api.test_openapi import Documented
from tests.live import PASSWORD, LiveServer, WebhookReceiver
from tests.v1.test_assets import MP3, PNG, multipart

# Its settings: webhooks to 127.0.0.1, Stripe's API stood in for by a local server.
from tests.v1.test_stripe_billing import settings, stripe_api  # noqa: F401
from tests.v1.test_web_push import Browser, PushService

GAME = {"session_title": "Goblin Arrows", "session_datetime": "2099-01-01 19:00:00"}


async def _documented(account) -> Documented:
    return Documented((await account.api.get("/api/openapi.json")).json())


async def test_campaigns_their_members_and_sessions_are_the_documented_answers(accounts):
    owner, cleric = await accounts(), await accounts()
    documented = await _documented(owner)
    made = documented.check(
        await owner.api.post("/v1/campaigns", json={"name": "Keep on the Borderlands"}), "/v1/campaigns", "post", 201
    )
    path = f"/v1/campaigns/{made['id']}"
    one = "/v1/campaigns/{campaign_id}"
    documented.check(await owner.api.get(path), one)
    documented.check(await owner.api.patch(path, json={"description": "B2"}), one, "patch")
    assert documented.check(await owner.api.get("/v1/campaigns"), "/v1/campaigns")["data"]
    members = one + "/members"
    added = await owner.api.post(path + "/members", json={"username": cleric.username, "role": "dm"})
    assert documented.check(added, members, "post", 201)["role"] == "dm"
    assert len(documented.check(await cleric.api.get(path + "/members"), members)["data"]) == 2
    game = await cleric.api.post("/api/session/create.php", json={**GAME, "campaign_id": made["id"]})
    assert game.status_code == 200, game.text
    sessions = documented.check(await owner.api.get(path + "/sessions"), one + "/sessions")
    assert sessions["data"][0]["status"] == "scheduled"


async def test_the_profile_login_refresh_and_password_reset_are_the_documented_answers(server: LiveServer, accounts):
    account = await accounts()
    documented = await _documented(account)
    documented.check(await account.api.get("/v1/users/me"), "/v1/users/me")
    changed = await account.api.patch("/v1/users/me", json={"display_name": "Aleena", "time_zone": "Europe/Paris"})
    assert documented.check(changed, "/v1/users/me", "patch")["display_name"] == "Aleena"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        login = {"identifier": account.username, "password": PASSWORD}
        token = documented.check(await anonymous.post("/v1/auth/login", json=login), "/v1/auth/login", "post")
        anonymous.headers["Authorization"] = f"Bearer {token['token']}"
        documented.check(await anonymous.post("/v1/auth/refresh"), "/v1/auth/refresh", "post")
        reset = await anonymous.post("/v1/auth/password-reset", json={"email": f"{account.username}@example.com"})
        documented.check(reset, "/v1/auth/password-reset", "post", 202)
    documented.check(await account.api.get("/v1/subscription"), "/v1/subscription")


async def test_api_keys_and_assets_are_the_documented_answers(accounts):
    account = await accounts()
    documented = await _documented(account)
    key = documented.check(
        await account.api.post("/v1/api-keys", json={"name": "dice bot", "scope": "read"}), "/v1/api-keys", "post", 201
    )
    assert key["key"].startswith("vtt_live_")  # shown once
    listed = documented.check(await account.api.get("/v1/api-keys"), "/v1/api-keys")
    assert "key" not in listed["data"][0]
    documented.check(await account.api.delete(f"/v1/api-keys/{key['id']}"), "/v1/api-keys/{key_id}", "delete")
    image = documented.check(await account.api.post("/v1/assets", **multipart(PNG)), "/v1/assets", "post", 201)
    sound = multipart(MP3, asset_type="audio", name=None, filename="horn.mp3")
    documented.check(await account.api.post("/v1/assets", **sound), "/v1/assets", "post", 201)
    documented.check(await account.api.get(f"/v1/assets/{image['id']}"), "/v1/assets/{asset_id}")
    assert documented.check(await account.api.get("/v1/assets", params={"type": "map"}), "/v1/assets")["data"]


async def test_webhooks_their_log_redelivery_and_ping_are_the_documented_answers(accounts):
    owner = await accounts()
    documented = await _documented(owner)
    async with WebhookReceiver() as receiver:
        events = list(webhook_events.EVENT_TYPES)
        made = documented.check(
            await owner.api.post("/v1/webhooks", json={"url": receiver.url, "events": events}),
            "/v1/webhooks",
            "post",
            201,
        )
        assert made["secret"].startswith("whsec_")  # shown once
        receiver.secret = made["secret"]
        one, path = "/v1/webhooks/{webhook_id}", f"/v1/webhooks/{made['id']}"
        assert "secret" not in documented.check(await owner.api.get(path), one)
        documented.check(await owner.api.patch(path, json={"description": "the table's bot"}), one, "patch")
        documented.check(await owner.api.get("/v1/webhooks"), "/v1/webhooks")
        ping = documented.check(await owner.api.post(path + "/ping"), one + "/ping", "post", 202)
        await receiver.wait_for(lambda: ping["event_id"] in receiver.delivered)
        log = documented.check(await owner.api.get(path + "/deliveries"), one + "/deliveries")
        delivery = log["data"][0]
        again = await owner.api.post(f"{path}/deliveries/{delivery['id']}/redeliver")
        documented.check(again, one + "/deliveries/{delivery_id}/redeliver", "post", 202)
        await receiver.wait_for(lambda: receiver.seen[ping["event_id"]] == 2)
        await owner.api.patch(path, json={"enabled": False})  # the log's attempts are final from here
        log = documented.check(await owner.api.get(path + "/deliveries"), one + "/deliveries")
        assert log["data"][0]["attempts"]


async def test_notifications_preferences_and_pushes_are_the_documented_answers(accounts):
    dm, player = await accounts(), await accounts()
    documented = await _documented(player)
    game = (await dm.api.post("/api/session/create.php", json=GAME)).json()["data"]
    invite = {"session_id": game["session_id"], "username": player.username}
    assert (await dm.api.post("/api/session/invite-player.php", json=invite)).status_code == 200
    listed = documented.check(await player.api.get("/v1/notifications"), "/v1/notifications")
    note = listed["data"][0]
    assert note["kind"] == "invitation"
    read = await player.api.post(f"/v1/notifications/{note['id']}/read")
    assert documented.check(read, "/v1/notifications/{notification_id}/read", "post")["marked"] == 1
    documented.check(await player.api.post("/v1/notifications/read"), "/v1/notifications/read", "post")
    preferences = "/v1/notifications/preferences"
    documented.check(await player.api.get(preferences), preferences)
    off = {"invitation": {"email": False}}
    assert not documented.check(await player.api.patch(preferences, json=off), preferences, "patch")["invitation"][
        "email"
    ]
    documented.check(await player.api.get("/v1/notifications/push-key"), "/v1/notifications/push-key")
    subscriptions = "/v1/notifications/push-subscriptions"
    browser = Browser(PushService(), "documented")
    documented.check(await player.api.post(subscriptions, json=browser.subscription()), subscriptions, "post", 201)
    assert documented.check(await player.api.get(subscriptions), subscriptions)["data"]
    checkout = await player.api.post("/v1/billing/checkout", json={"plan": "basic"})
    assert documented.check(checkout, "/v1/billing/checkout", "post")["url"].startswith("https://checkout.stripe")
