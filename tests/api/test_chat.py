"""POST /api/chat/send.php, /api/chat/delete.php and GET /api/chat/history.php over real HTTP and sockets."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest

from server.errors import RateLimited
from server.send_rate import SendRate
from server.settings import Settings
from tests.live import FIGHTER, LiveServer, game_table

SEND = "/api/chat/send.php"
DELETE = "/api/chat/delete.php"
HISTORY = "/api/chat/history.php"


async def test_a_message_reaches_the_table_as_sent(server: LiveServer):
    dm, (player, other), session_id = await game_table(server)
    sockets = [await c.socket(session_id) for c in (dm, player, other)]
    text = "<b>Hold the door!</b> & run"
    sent = await player.ok(SEND, {"session_id": session_id, "text": text})
    assert (sent["text"], sent["sender_user_id"], sent["to"]) == (text, player.user_id, [])
    for socket in sockets:
        event = await socket.event("chat_message")
        assert event["event_id"] == sent["message_id"] and event["event_data"]["text"] == text


async def test_speaking_as_a_character(server: LiveServer):
    dm, (player, other), session_id = await game_table(server)
    hero = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    sent = await player.ok(
        SEND, {"session_id": session_id, "text": "For the king", "as_character_id": hero["character_id"]}
    )
    assert sent["character_name"] == FIGHTER["character_name"]
    assert await dm.ok(SEND, {"session_id": session_id, "text": "Aye", "as_character_id": hero["character_id"]})
    refused = await other.post(SEND, {"session_id": session_id, "text": "x", "as_character_id": hero["character_id"]})
    assert refused.status_code == 403
    missing = await other.post(SEND, {"session_id": session_id, "text": "x", "as_character_id": 999_999})
    assert missing.status_code == 400


async def test_length_limits_at_their_edges(server: LiveServer, clients):
    dm, (player, _), session_id = await game_table(server)
    stranger = await clients().register()
    assert (await player.ok(SEND, {"session_id": session_id, "text": "x"}))["text"] == "x"
    assert len((await player.ok(SEND, {"session_id": session_id, "text": "é" * 2000}))["text"]) == 2000
    for body, status in [
        ({"text": "x" * 2001}, 400),
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": 5}, 400),
        ({}, 400),
        ({"text": "hi", "to": list(range(1, 22))}, 400),
        ({"text": "hi", "to": [stranger.user_id]}, 400),
        ({"text": "hi", "to": [2**31]}, 400),
    ]:
        response = await player.post(SEND, {"session_id": session_id, **body})
        assert response.status_code == status, (body, response.text)
    assert (await stranger.post(SEND, {"session_id": session_id, "text": "hi"})).status_code == 403
    assert (await player.get(HISTORY, session_id=session_id, limit=0)).status_code == 400
    texts = [m["text"] for m in (await dm.get(HISTORY, session_id=session_id)).json()["data"]["messages"]]
    assert texts == ["x", "é" * 2000]


async def test_the_send_rate_at_its_edges():
    """The real limiter, in memory: the sixth message within a second and the sixty-first within a minute
    are refused, with the seconds to wait."""
    burst = SendRate("memory://", per_second=5, per_minute=1000)
    await burst.start()
    for _ in range(5):
        await burst.spend("chat:1")
    with pytest.raises(RateLimited) as caught:
        await burst.spend("chat:1")
    assert caught.value.retry_after == 1
    await burst.spend("chat:2")  # per user
    minute = SendRate("memory://", per_second=1000, per_minute=60)
    await minute.start()
    for _ in range(60):
        await minute.spend("chat:1")
    with pytest.raises(RateLimited) as caught:
        await minute.spend("chat:1")
    assert 1 <= caught.value.retry_after <= 60


@pytest.fixture
async def limited_server(settings: Settings) -> AsyncIterator[LiveServer]:
    live = await LiveServer(dataclasses.replace(settings, chat_per_second=1000, chat_per_minute=3)).start()
    yield live
    await live.stop()


async def test_past_the_rate_a_send_is_a_429_with_retry_after(limited_server: LiveServer):
    dm, (player, _), session_id = await game_table(limited_server)
    for n in range(3):
        await player.ok(SEND, {"session_id": session_id, "text": f"spam {n}"})
    refused = await player.post(SEND, {"session_id": session_id, "text": "one more"})
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await dm.post(SEND, {"session_id": session_id, "text": "the DM has their own count"})).status_code == 200
    invalid = await player.post(SEND, {"session_id": session_id, "text": ""})
    assert invalid.status_code == 400  # validation comes first
    # Dice have their own count at the same rate.
    for _ in range(3):
        await player.ok("/api/dice/roll.php", {"session_id": session_id, "expression": "d20"})
    refused = await player.post("/api/dice/roll.php", {"session_id": session_id, "expression": "d20"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60


async def test_delete_by_the_author_or_the_dm(server: LiveServer):
    dm, (player, other), session_id = await game_table(server)
    first = await player.ok(SEND, {"session_id": session_id, "text": "oops, wrong window"})
    second = await player.ok(SEND, {"session_id": session_id, "text": "second"})
    socket = await other.socket(session_id)
    assert (await other.post(DELETE, {"session_id": session_id, "message_id": first["message_id"]})).status_code == 403
    await player.ok(DELETE, {"session_id": session_id, "message_id": first["message_id"]})
    deleted = await socket.event("chat_message_deleted")
    assert deleted["event_data"]["message_id"] == first["message_id"]
    await dm.ok(DELETE, {"session_id": session_id, "message_id": second["message_id"]})
    again = await dm.post(DELETE, {"session_id": session_id, "message_id": second["message_id"]})
    assert again.status_code == 404
    roll = await dm.ok("/api/dice/roll.php", {"session_id": session_id, "expression": "d6"})
    not_chat = await dm.post(DELETE, {"session_id": session_id, "message_id": roll["roll_id"]})
    assert not_chat.status_code == 404
    assert (await other.get(HISTORY, session_id=session_id)).json()["data"]["messages"] == []
    # The text is gone from the log too: a replay from the start never shows it.
    replay = await other.socket(session_id, last_event_id=0)
    head, events = await server.services.event_log.head(session_id), []
    while not events or events[-1]["event_id"] < head:
        events.append(await replay.event())
    assert "oops" not in str(events) and "second" not in str(events)
    assert [e["event_data"] for e in events if e["event_type"] == "chat_message"] == [
        {"sender_user_id": player.user_id, "deleted": True}
    ] * 2


async def test_history_pages_back_in_time(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    sent = [await player.ok(SEND, {"session_id": session_id, "text": f"line {n}"}) for n in range(5)]
    page = (await dm.get(HISTORY, session_id=session_id, limit=3)).json()["data"]
    assert [m["text"] for m in page["messages"]] == ["line 2", "line 3", "line 4"]
    older = (await dm.get(HISTORY, session_id=session_id, limit=3, before_id=page["next_before_id"])).json()["data"]
    assert [m["message_id"] for m in older["messages"]] == [s["message_id"] for s in sent[:2]]
    assert older["next_before_id"] is None


@pytest.mark.redis
async def test_the_send_rate_is_shared_by_processes_through_redis(redis_url: str):
    """Two limiters on one Redis (two server processes) count one user's sends together."""
    key = f"chat:test-{uuid.uuid4().hex}"
    first, second = (
        SendRate(redis_url, per_second=1000, per_minute=3),
        SendRate(redis_url, per_second=1000, per_minute=3),
    )
    await first.start()
    await second.start()
    try:
        await first.spend(key)
        await second.spend(key)
        await first.spend(key)
        with pytest.raises(RateLimited) as caught:
            await second.spend(key)
        assert 1 <= caught.value.retry_after <= 60
    finally:
        await first.stop()
        await second.stop()
