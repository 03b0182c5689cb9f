"""/v1/campaigns: create, read, change, delete, members and roles, the plan's limit, and the game
sessions that belong to a campaign (through the legacy session/create.php too)."""

from __future__ import annotations

from server import profiles
from tests.live import LiveServer

LOST_MINE = {"name": "Lost Mine of Phandelver", "system": "dnd5e", "description": "A D&D 5e starter adventure"}
GAME = {"session_title": "Goblin Arrows", "session_datetime": "2099-01-01 19:00:00"}


async def test_create_get_list_update_delete(accounts):
    dm = await accounts()
    response = await dm.api.post("/v1/campaigns", json=LOST_MINE)
    assert response.status_code == 201
    campaign = response.json()
    assert response.headers["location"] == f"/v1/campaigns/{campaign['id']}"
    assert {k: campaign[k] for k in LOST_MINE} == LOST_MINE
    assert campaign["object"] == "campaign" and campaign["role"] == "owner" and campaign["owner_id"] == dm.user_id
    assert (await dm.api.get(f"/v1/campaigns/{campaign['id']}")).json() == campaign
    listed = (await dm.api.get("/v1/campaigns")).json()
    assert [c["id"] for c in listed["data"]] == [campaign["id"]] and listed["pagination"]["total"] == 1
    changed = await dm.api.patch(f"/v1/campaigns/{campaign['id']}", json={"description": "Now with Wave Echo Cave"})
    assert changed.status_code == 200
    assert changed.json()["description"] == "Now with Wave Echo Cave" and changed.json()["name"] == LOST_MINE["name"]
    assert (await dm.api.delete(f"/v1/campaigns/{campaign['id']}")).status_code == 204
    assert (await dm.api.get(f"/v1/campaigns/{campaign['id']}")).status_code == 404


async def test_the_system_defaults_to_becmi_and_fields_are_validated(accounts):
    dm = await accounts()
    assert (await dm.api.post("/v1/campaigns", json={"name": "Karameikos"})).json()["system"] == "becmi"
    response = await dm.api.post("/v1/campaigns", json={"name": "", "description": "x" * 5001})
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["details"]} == {"name", "description"}
    campaign = (await dm.api.get("/v1/campaigns")).json()["data"][0]
    assert (await dm.api.patch(f"/v1/campaigns/{campaign['id']}", json={})).status_code == 400
    assert (await dm.api.patch(f"/v1/campaigns/{campaign['id']}", json={"name": None})).status_code == 400


async def test_another_users_campaign_is_404_for_every_verb(accounts):
    owner, stranger = await accounts(), await accounts()
    campaign = (await owner.api.post("/v1/campaigns", json=LOST_MINE)).json()
    path = f"/v1/campaigns/{campaign['id']}"
    for response in (
        await stranger.api.get(path),
        await stranger.api.patch(path, json={"name": "mine now"}),
        await stranger.api.delete(path),
        await stranger.api.get(path + "/members"),
        await stranger.api.post(path + "/members", json={"username": stranger.username}),
        await stranger.api.get(path + "/sessions"),
        await stranger.api.get("/v1/campaigns/999999"),
    ):
        assert response.status_code == 404 and response.json()["error"] == "resource_not_found"
    assert (await stranger.api.get("/v1/campaigns")).json()["data"] == []


async def test_members_and_roles(accounts):
    owner, cleric, thief = await accounts(), await accounts(), await accounts()
    campaign = (await owner.api.post("/v1/campaigns", json=LOST_MINE)).json()
    path = f"/v1/campaigns/{campaign['id']}"
    added = await owner.api.post(path + "/members", json={"username": cleric.username, "role": "dm"})
    assert added.status_code == 201 and added.headers["location"] == f"{path}/members/{cleric.user_id}"
    assert added.json()["role"] == "dm"
    await owner.api.post(path + "/members", json={"username": thief.username})
    members = (await thief.api.get(path + "/members")).json()["data"]
    assert [(m["username"], m["role"]) for m in members] == [
        (owner.username, "owner"),
        (cleric.username, "dm"),
        (thief.username, "player"),
    ]
    seen = (await thief.api.get(path)).json()
    assert seen["role"] == "player" and seen["member_count"] == 3
    refused = await thief.api.patch(path, json={"name": "Thieves' Guild"})
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_permissions"
    assert (await thief.api.delete(f"{path}/members/{cleric.user_id}")).status_code == 403
    assert (await thief.api.delete(f"{path}/members/{thief.user_id}")).status_code == 204  # leaving
    assert (await thief.api.get(path)).status_code == 404
    assert (await owner.api.delete(f"{path}/members/{owner.user_id}")).status_code == 400
    unknown = await owner.api.post(path + "/members", json={"username": "nobody-at-all"})
    assert unknown.status_code == 400 and unknown.json()["details"][0]["code"] == "not_found"
    assert (await owner.api.delete(f"{path}/members/{thief.user_id}")).status_code == 404


async def test_the_free_plan_owns_three_campaigns_then_subscription_required(server: LiveServer, accounts):
    dm = await accounts()
    ids = [(await dm.api.post("/v1/campaigns", json={"name": f"Campaign {n}"})).json()["id"] for n in range(3)]
    refused = await dm.api.post("/v1/campaigns", json={"name": "One too many"})
    assert refused.status_code == 403 and refused.json()["error"] == "subscription_required"
    await dm.api.delete(f"/v1/campaigns/{ids[0]}")
    assert (await dm.api.post("/v1/campaigns", json={"name": "In its place"})).status_code == 201
    await profiles.set_plan(server.services.db, dm.username, "basic")
    assert (await dm.api.post("/v1/campaigns", json={"name": "On Basic"})).status_code == 201


async def test_a_game_session_must_name_a_campaign_the_caller_owns_or_runs(accounts):
    owner, co_dm, player = await accounts(), await accounts(), await accounts()
    campaign = (await owner.api.post("/v1/campaigns", json=LOST_MINE)).json()
    path = f"/v1/campaigns/{campaign['id']}"
    await owner.api.post(path + "/members", json={"username": co_dm.username, "role": "dm"})
    await owner.api.post(path + "/members", json={"username": player.username, "role": "player"})
    for account, campaign_id in ((owner, 99), (player, campaign["id"])):
        response = await account.api.post("/api/session/create.php", json={**GAME, "campaign_id": campaign_id})
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == {"campaign_id": "No campaign with this id that you own or run as a DM"}
    made = []
    for account in (owner, co_dm):
        response = await account.api.post("/api/session/create.php", json={**GAME, "campaign_id": campaign["id"]})
        assert response.status_code == 200, response.text
        made.append(response.json()["data"]["session_id"])
    sessions = (await player.api.get(path + "/sessions")).json()["data"]
    assert [s["session_id"] for s in sessions] == made
    assert sessions[0]["session_datetime"] == "2099-01-01T19:00:00Z"
    assert (await owner.api.delete(path)).status_code == 204
    listed = (await owner.api.get("/api/session/list.php")).json()["data"]["sessions"]
    assert [s["campaign_id"] for s in listed] == [None]
