"""The fog of war never leaks: a player's WebSocket and long-poll streams, live and replayed, and every
list and scene they read, are scanned for canary labels of tokens that are hidden or under fog and for
cells the DM never revealed. Revealing and covering again deliver the token as added and removed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.live import FIGHTER, Client, LiveServer, Socket, game_table, map_image, upload_map

HIDDEN = "canary-hidden-7f3a"
DEEP = "canary-deep-fog-91c2"
REVEALED = {(0, 0), (1, 0), (2, 0)}
NEVER_REVEALED = {(5, 5), (6, 5), (7, 5)}


async def poll_all(client: Client, session_id: int, after: int, until: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Long-poll from `after` until an answer reaches `until`; every answer's text and the events."""
    texts, events = [], []
    while after < until:
        answer = await client.get("/api/realtime/poll.php", session_id=session_id, last_event_id=after, timeout=5)
        assert answer.status_code == 200, answer.text
        texts.append(answer.text)
        data = answer.json()["data"]
        events += data["events"]
        if data["last_event_id"] == after:
            break  # nothing more for this player
        after = data["last_event_id"]
    return texts, events


async def frames_until(socket: Socket, event_type: str, marker: str) -> list[str]:
    """Every frame up to the event of `event_type` whose data mentions `marker`, as text."""
    texts = []
    while True:
        frame = await socket.frame(timeout=10)
        texts.append(json.dumps(frame))
        if frame["type"] == "event" and frame["event_type"] == event_type and marker in texts[-1]:
            return texts


def assert_no_secrets(texts: list[str]) -> None:
    for text in texts:
        assert HIDDEN not in text and DEEP not in text, text
    cells: set[tuple[int, int]] = set()
    for text in texts:
        _collect_cells(json.loads(text), cells)
    assert not cells & NEVER_REVEALED, cells & NEVER_REVEALED


def _collect_cells(value: Any, into: set[tuple[int, int]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("cells", "revealed_cells"):
                into.update(tuple(cell) for cell in item)
            else:
                _collect_cells(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect_cells(item, into)


async def test_a_player_never_receives_hidden_or_fogged_tokens_or_unrevealed_cells(server: LiveServer):
    await fog_story(server)


@pytest.mark.postgres
async def test_the_fog_on_postgresql(settings, postgres_url):
    server = await LiveServer(dataclasses.replace(settings, database_url=postgres_url)).start()
    try:
        await fog_story(server)
    finally:
        await server.stop()


async def fog_story(server: LiveServer) -> None:
    dm, (player,), session_id = await game_table(server, players=1)
    player_socket = await player.socket(session_id)
    start = (await player_socket.frame())["head_event_id"]
    cellar = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]
    map_id = cellar["map_id"]
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    add = "/api/session/maps/tokens/add.php"
    mine = await dm.ok(
        add, {"map_id": map_id, "character_id": character["character_id"], "x_position": 25, "y_position": 25}
    )
    hidden = await dm.ok(add, {"map_id": map_id, "label": HIDDEN, "x_position": 75, "y_position": 25, "hidden": True})
    deep = await dm.ok(add, {"map_id": map_id, "label": DEEP, "x_position": 275, "y_position": 275})
    lurker = await dm.ok(add, {"map_id": map_id, "label": "Lurker", "x_position": 125, "y_position": 125})
    # The DM covers cells that were never revealed (players hear nothing of them), then reveals a room.
    await dm.ok("/api/session/maps/fog/hide.php", {"map_id": map_id, "cells": [list(c) for c in NEVER_REVEALED]})
    revealed = await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [list(c) for c in REVEALED]})
    assert revealed["revealed_count"] == 3
    move = "/api/session/maps/tokens/move.php"
    await dm.send("PUT", move, {"token_id": deep["token_id"], "x_position": 325, "y_position": 275})  # fog to fog
    await dm.send("PUT", move, {"token_id": hidden["token_id"], "x_position": 25, "y_position": 30})  # hidden
    await dm.send("PUT", move, {"token_id": lurker["token_id"], "x_position": 125, "y_position": 25})  # into the light
    await dm.send("PUT", move, {"token_id": lurker["token_id"], "x_position": 125, "y_position": 125})  # back
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [[2, 2]]})  # the lurker's cell
    await dm.ok("/api/session/maps/fog/hide.php", {"map_id": map_id, "cells": [[2, 2], [6, 5]]})
    await dm.send("PUT", "/api/session/maps/tokens/update.php", {"token_id": mine["token_id"], "hidden": True})
    await dm.send("PUT", "/api/session/maps/tokens/update.php", {"token_id": mine["token_id"], "hidden": False})
    await dm.send("DELETE", f"/api/session/maps/tokens/delete.php?token_id={hidden['token_id']}")
    done = await dm.ok(
        "/api/session/maps/drawings/add.php",
        {"map_id": map_id, "drawing_type": "stroke", "path_data": [[1, 1]], "color": "#112233"},
    )
    head = await server.services.event_log.head(session_id)

    live = await frames_until(player_socket, "map_drawing_added", "#112233")
    replay_socket = await player.socket(session_id, last_event_id=start)
    replay = await frames_until(replay_socket, "map_drawing_added", "#112233")
    poll_texts, poll_events = await poll_all(player, session_id, start, head)
    reads = [
        (await player.get("/api/session/maps/tokens/list.php", map_id=map_id)).text,
        (await player.get("/api/session/maps/get.php", map_id=map_id)).text,
        (await player.get("/api/session/maps/list.php", session_id=session_id)).text,
    ]
    for texts in (live, replay, poll_texts, reads):
        assert_no_secrets(texts)

    # What the player saw of the tokens, in order: the same on both transports, live and replayed.
    def token_story(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [
            (e["event_type"], e["event_data"].get("token", e["event_data"]).get("token_id"))
            for e in events
            if e["event_type"].startswith("map_token")
        ]

    live_events = [json.loads(t) for t in live if json.loads(t)["type"] == "event"]
    replay_events = [json.loads(t) for t in replay if json.loads(t)["type"] == "event"]
    story = token_story(live_events)
    assert story == token_story(replay_events) == token_story(poll_events)
    assert story == [
        ("map_token_added", mine["token_id"]),  # the room it stands in revealed
        ("map_token_added", lurker["token_id"]),  # moved into the light
        ("map_token_removed", lurker["token_id"]),  # moved back under fog
        ("map_token_added", lurker["token_id"]),  # its cell revealed
        ("map_token_removed", lurker["token_id"]),  # its cell covered again
        ("map_token_removed", mine["token_id"]),  # hidden by the DM
        ("map_token_added", mine["token_id"]),  # shown again
    ]
    assert done["drawing_type"] == "stroke"
