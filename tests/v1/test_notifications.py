"""In-app notifications: an invitation reaches the invitee's open socket and their list; read marks."""

from __future__ import annotations

import asyncio

from tests.live import Client, game_table


async def _notification_frame(socket, timeout: float = 10.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.frame(timeout)
            if frame["type"] == "notification":
                return frame["notification"]


async def test_an_invitation_is_pushed_to_the_invitees_socket_and_listed_until_read(server):
    _, [player], first_session = await game_table(server, players=1)
    socket = await player.socket(first_session)
    other_dm = await Client(server).register()
    second = await other_dm.ok(
        "/api/session/create.php", {"session_title": "Isle of Dread", "session_datetime": "2099-02-01 19:00:00"}
    )
    await other_dm.ok(
        "/api/session/invite-player.php", {"session_id": second["session_id"], "username": player.user["username"]}
    )
    pushed = await _notification_frame(socket)
    assert pushed["kind"] == "invitation" and pushed["data"]["session_id"] == second["session_id"]
    assert pushed["title"] == f"{other_dm.user['username']} invited you to Isle of Dread" and not pushed["read"]
    listed = (await player.http.get("/v1/notifications", params={"unread": "true"})).json()
    first = listed["data"][1]  # the invitation to the first table, newest first
    assert [n["id"] for n in listed["data"]] == [pushed["id"], first["id"]] and listed["pagination"]["total"] == 2
    assert (await other_dm.http.get("/v1/notifications")).json()["data"] == []
    refused = await other_dm.http.post(
        f"/v1/notifications/{pushed['id']}/read", headers={"X-CSRF-Token": other_dm.csrf or ""}
    )
    assert refused.status_code == 404
    marked = await player.http.post(f"/v1/notifications/{pushed['id']}/read", headers={"X-CSRF-Token": player.csrf})
    assert marked.status_code == 200 and marked.json()["marked"] == 1
    unread = (await player.http.get("/v1/notifications", params={"unread": "true"})).json()["data"]
    assert [n["id"] for n in unread] == [first["id"]]
    read = (await player.http.get("/v1/notifications")).json()["data"][0]
    assert read["id"] == pushed["id"] and read["read"] and read["read_at"]
    every = await player.http.post("/v1/notifications/read", headers={"X-CSRF-Token": player.csrf})
    assert every.json()["marked"] == 1
    assert (await player.http.get("/v1/notifications", params={"unread": "true"})).json()["data"] == []
