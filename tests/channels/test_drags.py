"""Token drags and pings: ephemeral events over the WebSocket, coalesced per token, never in the log,
filtered by the fog and hidden tokens like every other map event."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from server.channels import ephemeral
from tests.live import FIGHTER, Client, LiveServer, Socket, game_table, map_image, upload_map

ALL_CELLS = [[col, row] for col in range(-1, 9) for row in range(-1, 7)]  # 400 x 300, 50 px squares


async def ephemeral_until(socket: Socket, done: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Every ephemeral frame up to the first for which `done(frame)` holds (all frames kept in socket.frames)."""
    seen = []
    while True:
        frame = await socket.frame(timeout=timeout)
        if frame["type"] == "ephemeral":
            seen.append(frame)
            if done(frame):
                return seen


async def table(server: LiveServer) -> tuple[Client, list[Client], int, int, dict[str, Any]]:
    dm, players, session_id = await game_table(server, players=2)
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    character = await players[0].ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    token = await dm.ok(
        "/api/session/maps/tokens/add.php",
        {"map_id": map_id, "character_id": character["character_id"], "x_position": 10, "y_position": 10},
    )
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": ALL_CELLS})
    return dm, players, session_id, map_id, token


async def test_a_thousand_drags_reach_a_slow_client_as_the_newest_position_and_only_the_drop_is_logged(
    server: LiveServer,
):
    dm, (dragger, slow), session_id, _, token = await table(server)
    head = await server.services.event_log.head(session_id)
    dm_socket, drag_socket, slow_socket = [
        await client.socket(session_id, last_event_id=head) for client in (dm, dragger, slow)
    ]
    for socket in (dm_socket, drag_socket, slow_socket):
        assert (await socket.frame())["type"] == "hello"
    token_id = token["token_id"]
    for step in range(1, 1001):
        await drag_socket.send({"type": "drag", "token_id": token_id, "x_position": step * 0.3, "y_position": 20})
    final = 1000 * 0.3

    def at_final(frame: dict[str, Any]) -> bool:
        return frame["event_data"]["x_position"] == final

    dm_drags = await ephemeral_until(dm_socket, at_final)
    slow_drags = await ephemeral_until(slow_socket, at_final)  # read only now, after all 1,000 were sent
    for drags in (dm_drags, slow_drags):
        assert drags[-1] == {
            "type": "ephemeral",
            "event_type": "map_token_dragged",
            "event_data": {"map_id": token["map_id"], "token_id": token_id, "x_position": final, "y_position": 20,
                           "user_id": dragger.user_id},
        }  # fmt: skip
        positions = [frame["event_data"]["x_position"] for frame in drags]
        assert positions == sorted(positions) and len(positions) < 1000  # coalesced, never a backlog
        assert all("event_id" not in frame for frame in drags)

    await drag_socket.send({"type": "drag_end", "token_id": token_id})
    moved = await dragger.send(
        "PUT", "/api/session/maps/tokens/move.php", {"token_id": token_id, "x_position": final, "y_position": 20}
    )
    assert moved.status_code == 200
    assert (await slow_socket.event("map_token_moved"))["event_data"]["token"]["x_position"] == final
    logged = await server.services.event_log.since(session_id, head)
    assert [event.event_type for event in logged] == ["map_token_moved"]
    assert not any(frame["type"] == "ephemeral" for frame in drag_socket.frames)  # no echo to the dragger


async def test_drags_and_pings_follow_the_fog_and_hidden_tokens(server: LiveServer):
    dm, (owner, watcher), session_id, map_id, token = await table(server)
    add = "/api/session/maps/tokens/add.php"
    hidden = await dm.ok(
        add, {"map_id": map_id, "label": "Assassin", "x_position": 50, "y_position": 50, "hidden": True}
    )
    await dm.ok("/api/session/maps/fog/hide.php", {"map_id": map_id, "cells": [[7, 5]]})
    dm_socket = await dm.socket(session_id)
    watcher_socket = await watcher.socket(session_id)
    owner_socket = await owner.socket(session_id)
    # The DM drags the hidden token, a visible one into the fogged cell, and pings the fog; then a sentinel.
    await dm_socket.send({"type": "drag", "token_id": hidden["token_id"], "x_position": 60, "y_position": 60})
    await dm_socket.send({"type": "drag", "token_id": token["token_id"], "x_position": 375, "y_position": 275})
    await dm_socket.send({"type": "map_ping", "map_id": map_id, "x_position": 380, "y_position": 280})
    await dm_socket.send({"type": "map_ping", "map_id": map_id, "x_position": 11, "y_position": 11})
    seen = await ephemeral_until(watcher_socket, lambda f: f["event_data"]["x_position"] == 11)
    assert [(f["event_type"], f["event_data"]["x_position"]) for f in seen] == [("map_ping", 11)]
    assert "Assassin" not in json.dumps(watcher_socket.frames)
    assert all(f.get("event_data", {}).get("token_id") != hidden["token_id"] for f in watcher_socket.frames)

    # A player drags only their own token (checked against the table the hub holds of the active map, or in
    # the database for a token not on it); bad frames get an error and the connection stays.
    await watcher_socket.send({"type": "drag", "token_id": token["token_id"], "x_position": 1, "y_position": 1})
    await watcher_socket.send({"type": "drag", "token_id": 999_999, "x_position": 1, "y_position": 1})
    await watcher_socket.send({"type": "drag", "token_id": token["token_id"], "x_position": -1, "y_position": 1})
    await watcher_socket.send({"type": "drag", "x_position": 1, "y_position": 1})
    await watcher_socket.send({"type": "map_ping", "map_id": "x", "x_position": 1, "y_position": 1})
    errors = [await watcher_socket.frame() for _ in range(5)]
    assert [e.get("error") for e in errors] == [
        "insufficient_permissions", "resource_not_found", "bad_frame", "bad_frame", "bad_frame"
    ]  # fmt: skip
    await owner_socket.send({"type": "drag", "token_id": token["token_id"], "x_position": 120, "y_position": 20})
    dm_seen = await ephemeral_until(dm_socket, lambda f: f["event_data"].get("x_position") == 120)
    assert dm_seen[-1]["event_data"]["user_id"] == owner.user_id


@pytest.mark.redis
async def test_drags_cross_servers_through_the_broadcast_and_not_the_log(settings, redis_url):
    """Two servers (two hubs) on one database and one Redis: a drag on one reaches a socket on the other."""
    shared = dataclasses.replace(settings, broadcast_url=redis_url)
    first, second = LiveServer(shared), LiveServer(shared)
    await first.start()
    await second.start()
    try:
        dm, (dragger, _), session_id, _, token = await table(first)
        head = await first.services.event_log.head(session_id)
        watcher = Client(second)
        assert (await watcher.login(dm.user["username"])).status_code == 200
        watching = await watcher.socket(session_id, last_event_id=head)
        dragging = await dragger.socket(session_id, last_event_id=head)
        for socket in (watching, dragging):
            assert (await socket.frame())["type"] == "hello"
        for step in range(1, 101):
            await dragging.send({"type": "drag", "token_id": token["token_id"], "x_position": step, "y_position": 7})
        seen = await ephemeral_until(watching, lambda frame: frame["event_data"]["x_position"] == 100)
        assert seen[-1]["event_data"]["token_id"] == token["token_id"]
        assert await second.services.event_log.head(session_id) == head
    finally:
        await second.stop()
        await first.stop()


async def test_a_drag_is_never_delivered_after_the_event_that_hid_its_token(server: LiveServer, monkeypatch):
    """Drag frames go out in batches (server/channels/ephemeral.py): one waiting in its batch when the DM
    fogs the token's square goes out before the removal, never after it. A batch a second long makes the
    wait certain."""
    monkeypatch.setattr(ephemeral, "BATCH_SECONDS", 1.0)
    dm, (owner, watcher), session_id, map_id, token = await table(server)
    watcher_socket = await watcher.socket(session_id)
    owner_socket = await owner.socket(session_id)
    dm_socket = await dm.socket(session_id)
    for socket in (watcher_socket, owner_socket, dm_socket):
        assert (await socket.frame())["type"] == "hello"

    async def drag(x: int) -> None:
        await owner_socket.send({"type": "drag", "token_id": token["token_id"], "x_position": x, "y_position": 9})

    await drag(1)  # goes out at once, and starts the game session's second of batching
    await ephemeral_until(watcher_socket, lambda f: f["event_data"]["x_position"] == 1)
    await asyncio.sleep(0.1)  # past the drag rate's slot
    await drag(2)  # waits in the batch for the rest of the second
    await owner_socket.send({"type": "ping"})
    while (await owner_socket.frame())["type"] != "pong":  # then the drag before it has been read
        pass
    await dm.ok("/api/session/maps/fog/hide.php", {"map_id": map_id, "cells": [[0, 0]]})  # over the token
    await dm_socket.send({"type": "map_ping", "map_id": map_id, "x_position": 200, "y_position": 200})  # sentinel
    await ephemeral_until(watcher_socket, lambda f: f["event_type"] == "map_ping")
    kinds = [(f.get("event_type"), f.get("event_data", {}).get("x_position")) for f in watcher_socket.frames]
    assert kinds.index(("map_token_dragged", 2)) < kinds.index(("map_token_removed", None))
