"""A character's experience points are its owner's and the DM's: other players see the party view
(get.php hides experience_points), and `character_xp_updated` must hide them the same way on both
transports, live and in replay. The granted amount is a canary: it must appear in nothing they get."""

from __future__ import annotations

import asyncio

from tests.live import FIGHTER, Client, LiveServer, Socket, game_table

POLL = "/api/realtime/poll.php"
CANARY_XP = 987_653  # an amount that appears nowhere else in a game session


async def drain(socket: Socket, event_type: str) -> list[str]:
    """Every frame's text up to and including the next `event_type` event."""
    texts = []
    while True:
        frame = await socket.frame()
        texts.append(str(frame))
        if frame.get("type") == "event" and frame["event_type"] == event_type:
            return texts


async def grant(dm: Client, session_id: int, character_id: int) -> None:
    body = {"session_id": session_id, "character_ids": [character_id], "xp_amount": CANARY_XP, "reason": "dragon"}
    await dm.ok("/api/character/grant-xp.php", body)


async def test_other_players_never_learn_a_characters_experience_points(server: LiveServer):
    dm, (owner, other), session_id = await game_table(server)
    character = await owner.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    head = (await other.get(POLL, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    live_sockets = {who: await client.socket(session_id, head) for who, client in [("dm", dm), ("owner", owner)]}
    other_socket = await other.socket(session_id, head)
    parked = asyncio.create_task(other.get(POLL, session_id=session_id, last_event_id=head, timeout=25))
    await asyncio.sleep(0.3)  # let the poll park; it answers with the event either way

    await grant(dm, session_id, character["character_id"])

    seen_by_other = await drain(other_socket, "character_xp_updated")
    live_poll = (await parked).json()["data"]["events"]
    replay_socket = await other.socket(session_id, 0)
    seen_by_other += await drain(replay_socket, "character_xp_updated")
    replay_poll = (await other.get(POLL, session_id=session_id, last_event_id=0, timeout=0)).json()["data"]
    sheet = (await other.get("/api/character/get.php", character_id=character["character_id"])).json()
    listed = (await other.get("/api/character/list.php", session_id=session_id)).json()
    for text in [*seen_by_other, str(live_poll), str(replay_poll), str(sheet), str(listed)]:
        assert str(CANARY_XP) not in text
    xp_events = [e for e in live_poll + replay_poll["events"] if e["event_type"] == "character_xp_updated"]
    assert len(xp_events) == 2
    for event in xp_events:
        data = event["event_data"]
        assert data["character_id"] == character["character_id"] and data["level"] > 1
        assert "experience_points" not in data and "old_xp" not in data

    # The owner and the DM see the experience points, live.
    for who, socket in live_sockets.items():
        event = (await drain(socket, "character_xp_updated"))[-1]
        assert str(CANARY_XP) in event, who
