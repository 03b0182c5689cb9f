"""The event log on a real SQLite file: gapless ids in commit order, nothing recorded by a change that
fails, audiences in replay, heads, and in-process publishing of the events themselves."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from server import wire
from server.event_log import Change, EventLog, Viewer


async def session(log: EventLog, table) -> int:
    _, _, session_id = await table(players=0)
    return session_id


async def test_event_ids_are_consecutive_within_a_game_session(log: EventLog, table):
    session_id = await session(log, table)
    head = await log.head(session_id)
    async with log.change(session_id) as change:
        first = await change.record(session_id, "tick", {"n": 1})
        second = await change.record(session_id, "tick", {"n": 2})
    async with log.change(session_id) as change:
        third = await change.record(session_id, "tick", {"n": 3})
    assert [first.event_id, second.event_id, third.event_id] == [head + 1, head + 2, head + 3]
    assert await log.head(session_id) == head + 3
    replay = await log.since(session_id, head)
    assert [(e.event_id, e.event_data) for e in replay] == [(head + n, {"n": n}) for n in (1, 2, 3)]


async def test_a_change_that_fails_records_nothing(log: EventLog, table):
    session_id = await session(log, table)
    head = await log.head(session_id)
    with pytest.raises(RuntimeError):
        async with log.change(session_id) as change:
            await change.record(session_id, "tick", {})
            raise RuntimeError("the rules said no")
    assert await log.head(session_id) == head
    assert await log.since(session_id, head) == []


async def test_a_change_records_only_in_its_own_game_session(log: EventLog, table):
    first, second = await session(log, table), await session(log, table)
    with pytest.raises(ValueError, match="cannot record"):
        async with log.change(first) as change:
            await change.record(second, "tick", {})


async def test_replay_gives_each_viewer_only_their_events(log: EventLog, table):
    dm, (player, other), session_id = await table(players=2)
    head = await log.head(session_id)
    async with log.change(session_id) as change:
        await change.record(session_id, "for_all", {})
        await change.record(session_id, "for_dm", {}, audience="dm")
        await change.record(session_id, "for_player", {}, audience="user", user_id=player.user_id)
        await change.record(session_id, "hp", {"hp": 3}, player_data={"condition": "wounded"})

    def types(viewer: Viewer) -> list[str]:
        return [e.event_type for e in replay if e.visible_to(viewer)]

    replay = await log.since(session_id, head)
    assert types(Viewer(dm.user_id, True)) == ["for_all", "for_dm", "hp"]
    assert types(Viewer(player.user_id, False)) == ["for_all", "for_player", "hp"]
    assert types(Viewer(other.user_id, False)) == ["for_all", "hp"]
    seen_by_other = await log.since(session_id, head, viewer=Viewer(other.user_id, False))
    assert [e.event_type for e in seen_by_other] == ["for_all", "hp"]
    hp = seen_by_other[-1]
    assert wire.envelope_for(hp, Viewer(other.user_id, False))["event_data"] == {"condition": "wounded"}
    assert wire.envelope_for(hp, Viewer(dm.user_id, True))["event_data"] == {"hp": 3}


async def test_heads_of_many_game_sessions(log: EventLog, table):
    sessions = [await session(log, table) for _ in range(3)]
    async with log.change(sessions[1]) as change:
        await change.record(sessions[1], "tick", {})
    heads = await log.heads([*sessions, 999_999])
    assert heads == {sid: await log.head(sid) for sid in sessions}  # an unknown game session is left out
    assert heads[sessions[1]] == heads[sessions[0]] + 1


async def test_in_process_the_published_events_are_the_recorded_objects(log: EventLog, table):
    session_id = await session(log, table)
    heard: asyncio.Queue[wire.Message] = asyncio.Queue()

    async def on_message(channel: str, message: wire.Message) -> None:
        await heard.put(message)

    async def on_reconnect() -> None:
        pass

    log.broadcast.route(on_message, on_reconnect)
    await log.broadcast.subscribe(wire.session_channel(session_id))
    async with log.change(session_id) as change:
        recorded = await change.record(session_id, "tick", {"n": 1})
    async with asyncio.timeout(5):
        message = await heard.get()
    assert isinstance(message, wire.Events)
    assert message.events[0] is recorded  # no JSON round trip in one process


def test_between_processes_a_message_survives_encoding():
    from server.event_log import Event

    event = Event(1, 7, "tick", {"n": 1}, "2026-01-01 00:00:00", "users", None, None, (2, 3), {"n": None})
    messages: list[wire.Message] = [
        wire.Events((event,)),
        wire.PresenceAnnounce("p1", ((1, "ann"), (2, "bo"))),
        wire.PresenceQuery("p2"),
        wire.Logout(5),
    ]
    assert [wire.decode(wire.encode(message)) for message in messages] == messages


async def test_changes_applied_in_one_hop_keep_ids_gapless_and_publish_in_order(log: EventLog, table):
    session_id = await session(log, table)
    head = await log.head(session_id)
    published: list[int] = []
    all_published = asyncio.Event()

    async def on_message(channel: str, message: wire.Message) -> None:
        assert isinstance(message, wire.Events)
        published.extend(event.event_id for event in message.events)
        if len(published) == 40:
            all_published.set()

    async def on_reconnect() -> None:
        pass

    log.broadcast.route(on_message, on_reconnect)
    await log.broadcast.subscribe(wire.session_channel(session_id))

    async def tick(n: int, change: Change) -> int:
        return (await change.record(session_id, "tick", {"n": n})).event_id

    async def tick_per_statement(n: int) -> int:
        async with log.change(session_id) as change:
            return await tick(n, change)

    ids = await asyncio.gather(
        *(log.apply(session_id, partial(tick, n)) if n % 2 else tick_per_statement(n) for n in range(40))
    )
    assert sorted(ids) == list(range(head + 1, head + 41))
    await asyncio.wait_for(all_published.wait(), 5)
    assert published == sorted(published)  # published in commit order, which is event_id order
    replay = await log.since(session_id, head)
    assert [event.event_id for event in replay] == list(range(head + 1, head + 41))
