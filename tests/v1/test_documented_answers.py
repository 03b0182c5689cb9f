"""Every typed /v1 answer, taken for real, against the served API document: the schema of each answer is the
route's TypedDict, and no answer may carry a key the document does not name (an answer that grows a field
must grow its TypedDict too)."""

from __future__ import annotations

import httpx2 as httpx

from tests.api.test_openapi import Documented
from tests.live import PASSWORD, LiveServer
from tests.v1.test_assets import MP3, PNG, multipart

# Its settings: webhooks to 127.0.0.1, Stripe's API stood in for by a local server.
from tests.v1.test_stripe_billing import settings, stripe_api  # noqa: F401

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


async def test_the_profile_login_and_refresh_are_the_documented_answers(server: LiveServer, accounts):
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
