"""Game sessions over real HTTP and WebSockets: creation, invitations, the session list, removing a
player, starting and ending; and who may call each endpoint."""

from __future__ import annotations

import pytest

from server import clock
from tests.live import FIGHTER, ROLES, Cast, Client, LiveServer, cast, closed_with, game_table

NOW = 10**9  # a socket cursor past the head: only new events


def new_session(**fields: object) -> dict[str, object]:
    return {"session_title": "The Lost City", "session_datetime": "2099-06-01 18:30:00", **fields}


# -- creation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("session_title", "t" * 100, 200),
        ("session_title", "t" * 101, 400),
        ("session_title", "", 400),
        ("duration_minutes", 29, 400),
        ("duration_minutes", 30, 200),
        ("duration_minutes", 480, 200),
        ("duration_minutes", 481, 400),
        ("max_players", 0, 400),
        ("max_players", 1, 200),
        ("max_players", 12, 200),
        ("max_players", 13, 400),
        ("session_datetime", "2001-01-01 12:00:00", 400),
        ("session_datetime", "2099-13-01", 400),
    ],
)
async def test_create_validates_each_field_at_its_edges(server: LiveServer, field, value, status):
    dm = await Client(server).register()
    response = await dm.post("/api/session/create.php", new_session(**{field: value}))
    assert response.status_code == status, response.text
    if status == 400:
        assert list(response.json()["errors"]) == [field]
    else:
        data = response.json()["data"]
        assert data["status"] == "scheduled" and data["dm_user_id"] == dm.user_id


async def test_a_datetime_just_past_is_refused(server: LiveServer):
    dm = await Client(server).register()
    response = await dm.post("/api/session/create.php", new_session(session_datetime=clock.now_text()))
    assert response.status_code == 400
    assert response.json()["errors"] == {"session_datetime": "Session date and time must be in the future"}


# -- invitations and the list ---------------------------------------------------------------------------


async def test_invite_accept_and_list_show_each_role_and_status(server: LiveServer):
    dm = await Client(server).register()
    session_id = (await dm.ok("/api/session/create.php", new_session(max_players=2)))["session_id"]
    alice, bob, carol = [await Client(server).register() for _ in range(3)]

    response = await dm.post("/api/session/invite-player.php", {"session_id": session_id, "username": "nobody"})
    assert response.status_code == 404
    response = await dm.post(
        "/api/session/invite-player.php", {"session_id": session_id, "username": dm.user["username"]}
    )
    assert response.status_code == 400
    response = await alice.post("/api/session/accept-invitation.php", {"session_id": session_id})
    assert response.status_code == 404

    for player in (alice, bob):
        await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": player.user["username"]})
    again = await dm.post(
        "/api/session/invite-player.php", {"session_id": session_id, "username": alice.user["username"]}
    )
    assert again.status_code == 400 and "already invited" in again.json()["errors"]["username"]
    full = await dm.post(
        "/api/session/invite-player.php", {"session_id": session_id, "username": carol.user["username"]}
    )
    assert full.status_code == 400 and "maximum" in full.json()["errors"]["username"]

    await alice.ok("/api/session/accept-invitation.php", {"session_id": session_id})

    dm_list = (await dm.get("/api/session/list.php")).json()["data"]
    assert [(s["session_id"], s["role"], s["invitation_status"]) for s in dm_list["sessions"]] == [
        (session_id, "dm", None)
    ]
    assert dm_list["sessions"][0]["player_count"] == 1
    assert dm_list["sessions"][0]["dm_username"] == dm.user["username"]
    assert dm_list["pagination"] == {"page": 1, "limit": 20, "total": 1, "total_pages": 1}
    alice_list = (await alice.get("/api/session/list.php")).json()["data"]["sessions"]
    assert [(s["role"], s["invitation_status"], s["status"]) for s in alice_list] == [
        ("player", "accepted", "scheduled")
    ]
    bob_list = (await bob.get("/api/session/list.php")).json()["data"]["sessions"]
    assert [(s["role"], s["invitation_status"]) for s in bob_list] == [("player", "invited")]
    assert (await carol.get("/api/session/list.php")).json()["data"]["sessions"] == []


async def test_list_is_paginated_and_holds_sessions_as_dm_and_as_player(server: LiveServer):
    _, (player,), first = await game_table(server, players=1)
    own = [
        (await player.ok("/api/session/create.php", new_session(session_datetime=f"2099-0{month}-01 10:00:00")))[
            "session_id"
        ]
        for month in (2, 3, 4)
    ]
    page1 = (await player.get("/api/session/list.php", limit=2)).json()["data"]
    page2 = (await player.get("/api/session/list.php", limit=2, page=2)).json()["data"]
    assert page1["pagination"] == {"page": 1, "limit": 2, "total": 4, "total_pages": 2}
    seen = [(s["session_id"], s["role"]) for s in page1["sessions"] + page2["sessions"]]
    # ordered by date: the game_table session is in 2099-01
    assert seen == [(first, "player"), (own[0], "dm"), (own[1], "dm"), (own[2], "dm")]
    bad = await player.get("/api/session/list.php", limit=101)
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["limit"]


# -- removing a player ----------------------------------------------------------------------------------


async def test_removing_a_player_closes_their_socket_and_stops_their_polls(server: LiveServer):
    dm, (player, party), session_id = await game_table(server, players=2)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    kept = await party.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    async with server.services.db.transaction() as tx:
        for cid in (character["character_id"], kept["character_id"]):
            await tx.execute(
                "INSERT INTO initiative_entries (session_id, entity_type, character_id, initiative_roll, created_at) "
                "VALUES (:sid, 'character', :cid, 4, :now)",
                {"sid": session_id, "cid": cid, "now": clock.now_text()},
            )
    player_socket = await player.socket(session_id, last_event_id=NOW)
    party_socket = await party.socket(session_id, last_event_id=NOW)
    dm_socket = await dm.socket(session_id, last_event_id=NOW)
    for socket in (player_socket, party_socket, dm_socket):
        assert (await socket.frame())["type"] == "hello"

    removed = await dm.ok("/api/session/remove-player.php", {"session_id": session_id, "user_id": player.user_id})
    assert removed == {
        "session_id": session_id,
        "user_id": player.user_id,
        "username": player.user["username"],
        "status": "removed",
        "character_ids": [character["character_id"]],
    }
    assert await closed_with(player_socket) == 4410
    for socket in (party_socket, dm_socket):
        event = await socket.event("player_removed")
        assert event["event_data"]["user_id"] == player.user_id
        assert event["event_data"]["username"] == player.user["username"]

    poll = await player.get("/api/realtime/poll.php", session_id=session_id, timeout=0)
    assert poll.status_code == 403
    again = await player.socket(session_id)
    assert await closed_with(again) == 4403
    assert (await player.get("/api/session/list.php")).json()["data"]["sessions"] == []

    # The character left the session and its initiative tracker; the other one stayed.
    sheet = (await player.get("/api/character/get.php", character_id=character["character_id"])).json()["data"]
    assert sheet["session_id"] is None
    rows = await server.services.db.fetch_all("SELECT character_id FROM initiative_entries")
    assert [row["character_id"] for row in rows] == [kept["character_id"]]
    assert (await dm.get("/api/character/get.php", character_id=character["character_id"])).status_code == 403

    # Removing them twice is 404; they can be invited again.
    twice = await dm.post("/api/session/remove-player.php", {"session_id": session_id, "user_id": player.user_id})
    assert twice.status_code == 404
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": player.user["username"]})
    await player.ok("/api/session/accept-invitation.php", {"session_id": session_id})
    assert (await player.get("/api/realtime/poll.php", session_id=session_id, timeout=0)).status_code == 200


async def test_remove_player_refuses_the_dm_and_strangers(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    stranger = await Client(server).register()
    response = await dm.post("/api/session/remove-player.php", {"session_id": session_id, "user_id": dm.user_id})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["user_id"]
    response = await dm.post("/api/session/remove-player.php", {"session_id": session_id, "user_id": stranger.user_id})
    assert response.status_code == 404
    response = await dm.post("/api/session/remove-player.php", {"session_id": 999_999, "user_id": player.user_id})
    assert response.status_code == 404
    response = await dm.post("/api/session/remove-player.php", {"session_id": session_id})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["user_id"]


async def test_an_invited_player_can_be_removed_before_accepting(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    invitee = await Client(server).register()
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": invitee.user["username"]})
    await dm.ok("/api/session/remove-player.php", {"session_id": session_id, "user_id": invitee.user_id})
    response = await invitee.post("/api/session/accept-invitation.php", {"session_id": session_id})
    assert response.status_code == 404


# -- starting and ending --------------------------------------------------------------------------------


async def test_start_then_end_with_events_and_wrong_transitions_refused(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    socket = await player.socket(session_id, last_event_id=NOW)
    ref = {"session_id": session_id}

    assert (await dm.post("/api/session/end.php", ref)).status_code == 400  # scheduled cannot end
    started = await dm.ok("/api/session/start.php", ref)
    assert started == {"session_id": session_id, "old_status": "scheduled", "status": "active"}
    event = await socket.event("session_status_changed")
    assert event["event_data"] == {"session_id": session_id, "old_status": "scheduled", "status": "active"}
    again = await dm.post("/api/session/start.php", ref)
    assert again.status_code == 400 and again.json()["status"] == "error"

    ended = await dm.ok("/api/session/end.php", ref)
    assert ended["status"] == "completed"
    assert (await socket.event("session_status_changed"))["event_data"]["status"] == "completed"
    assert (await dm.post("/api/session/end.php", ref)).status_code == 400
    assert (await dm.post("/api/session/start.php", ref)).status_code == 400
    listed = (await player.get("/api/session/list.php")).json()["data"]["sessions"]
    assert listed[0]["status"] == "completed"
    assert (await dm.post("/api/session/start.php", {"session_id": 999_999})).status_code == 404


# -- access control -------------------------------------------------------------------------------------

# Expected status per role: anonymous, player of the session, other player, DM, moderator.
SESSION_ACCESS = {
    "create": (401, 200, 200, 200, 200),
    "list": (401, 200, 200, 200, 200),
    "invite": (401, 403, 403, 200, 403),
    "accept-invitation": (401, 200, 404, 404, 404),  # without an invitation there is nothing to accept
    "remove": (401, 403, 403, 200, 403),
    "start": (401, 403, 403, 200, 403),
    "end": (401, 403, 403, 403, 403),  # the session was never started: 400 for the DM, checked below
}


async def _call(c: Cast, client: Client, endpoint: str):
    sid = c.session_id
    if endpoint == "create":
        return await client.post("/api/session/create.php", new_session())
    if endpoint == "list":
        return await client.get("/api/session/list.php")
    if endpoint == "invite":
        fresh = await Client(c.dm.server).register()
        return await client.post(
            "/api/session/invite-player.php", {"session_id": sid, "username": fresh.user["username"]}
        )
    if endpoint == "remove":
        return await client.post("/api/session/remove-player.php", {"session_id": sid, "user_id": c.party.user_id})
    return await client.post(f"/api/session/{endpoint}.php", {"session_id": sid})


@pytest.mark.parametrize("endpoint", list(SESSION_ACCESS))
async def test_session_endpoints_by_role(server: LiveServer, endpoint):
    c = await cast(server)
    for role, expected in zip(ROLES, SESSION_ACCESS[endpoint], strict=True):
        if endpoint == "end" and role == "dm":
            expected = 400
        response = await _call(c, c.by_role(role), endpoint)
        assert response.status_code == expected, (role, response.text)


async def test_state_changes_without_the_csrf_token_are_refused(server: LiveServer):
    c = await cast(server)
    c.dm.csrf = None
    for path, body in [
        ("/api/session/start.php", {"session_id": c.session_id}),
        ("/api/session/remove-player.php", {"session_id": c.session_id, "user_id": c.player.user_id}),
    ]:
        response = await c.dm.post(path, body)
        assert response.status_code == 403 and response.json()["error"] == "csrf_token_invalid"
