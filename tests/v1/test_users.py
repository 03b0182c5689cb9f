"""/v1/users/me: profile, its changes, password change and account deletion."""

from __future__ import annotations

import pytest

from tests.live import PASSWORD, Client, LiveServer
from tests.v1.conftest import login

NEW_PASSWORD = "a much better passphrase"


async def test_the_profile_has_defaults_and_changes_field_by_field(accounts):
    account = await accounts()
    me = (await account.api.get("/v1/users/me")).json()
    assert me["id"] == account.user_id and me["object"] == "user" and me["username"] == account.username
    assert (me["display_name"], me["time_zone"], me["plan"], me["avatar_asset_id"]) == (
        account.username,
        "UTC",
        "free",
        None,
    )
    changed = await account.api.patch("/v1/users/me", json={"display_name": "Bargle", "time_zone": "Europe/Paris"})
    assert changed.status_code == 200
    assert (changed.json()["display_name"], changed.json()["time_zone"]) == ("Bargle", "Europe/Paris")
    reset = (await account.api.patch("/v1/users/me", json={"display_name": None})).json()
    assert reset["display_name"] == account.username and reset["time_zone"] == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Europe/"])
async def test_an_unknown_time_zone_is_refused(accounts, zone):
    account = await accounts()
    response = await account.api.patch("/v1/users/me", json={"time_zone": zone})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "time_zone"
    assert response.json()["details"][0]["code"] == "invalid_time_zone"


async def test_profile_changes_are_validated(accounts):
    account = await accounts()
    assert (await account.api.patch("/v1/users/me", json={})).status_code == 400
    too_long = await account.api.patch("/v1/users/me", json={"display_name": "x" * 51})
    assert too_long.status_code == 400 and too_long.json()["details"][0]["code"] == "too_long"


async def test_changing_the_password_ends_the_other_sessions_only(server: LiveServer, accounts):
    account = await accounts()
    other = (await login(server.url, account.username)).json()["token"]
    wrong = await account.api.post(
        "/v1/users/me/password", json={"current_password": "nope", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert wrong.json()["details"][0] == {
        "field": "current_password",
        "code": "incorrect",
        "message": "The password is not correct",
    }
    short = await account.api.post("/v1/users/me/password", json={"current_password": PASSWORD, "new_password": "x"})
    assert short.status_code == 400 and short.json()["details"][0]["field"] == "new_password"
    changed = await account.api.post(
        "/v1/users/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    assert (await account.api.get("/v1/users/me", headers=account.bearer(other))).status_code == 401
    assert (await account.api.get("/v1/users/me")).status_code == 200
    assert (await login(server.url, account.username)).status_code == 401
    assert (await login(server.url, account.username, NEW_PASSWORD)).status_code == 200


async def test_an_api_key_cannot_change_the_password_or_delete_the_account(accounts):
    account = await accounts()
    key = (await account.api.post("/v1/api-keys", json={"name": "bot"})).json()["key"]
    changed = await account.api.post(
        "/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.bearer(key),
    )
    assert changed.status_code == 403
    deleted = await account.api.request(
        "DELETE", "/v1/users/me", json={"password": PASSWORD}, headers=account.bearer(key)
    )
    assert deleted.status_code == 403


async def test_deleting_the_account_ends_its_games_and_keeps_the_history_for_the_players(server: LiveServer, accounts):
    dm = await accounts()
    player = await Client(server).register()
    assert player.user is not None
    session = (
        await dm.api.post(
            "/api/session/create.php", json={"session_title": "Last game", "session_datetime": "2099-01-01 19:00:00"}
        )
    ).json()["data"]
    await dm.api.post(
        "/api/session/invite-player.php",
        json={"session_id": session["session_id"], "username": player.user["username"]},
    )
    await player.ok("/api/session/accept-invitation.php", {"session_id": session["session_id"]})
    socket = await player.socket(session["session_id"])
    await socket.frame()  # hello
    campaign = (await dm.api.post("/v1/campaigns", json={"name": "Gone with the DM"})).json()
    wrong = await dm.api.request("DELETE", "/v1/users/me", json={"password": "wrong"})
    assert wrong.status_code == 400 and wrong.json()["details"][0]["field"] == "password"
    assert (await dm.api.request("DELETE", "/v1/users/me", json={"password": PASSWORD})).status_code == 204
    assert (await dm.api.get("/v1/users/me")).status_code == 401
    assert (await login(server.url, dm.username)).status_code == 401
    ended = await socket.event("session_status_changed")
    assert ended["event_data"] == {
        "session_id": session["session_id"],
        "old_status": "scheduled",
        "status": "completed",
    }
    (listed,) = (await player.get("/api/session/list.php")).json()["data"]["sessions"]
    assert listed["status"] == "completed" and listed["dm_username"] == f"deleted user #{dm.user_id}"
    db = server.services.db
    assert await db.fetch_val("SELECT count(*) FROM campaigns WHERE campaign_id = :c", {"c": campaign["id"]}) == 0
    # The name is free again.
    assert (await Client(server).register(dm.username)).user is not None
