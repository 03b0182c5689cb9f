"""The hub without any transport: ordering, gap repair, audiences and shared encoding, on a real
database file and the in-process broadcast."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from server import schema, wire
from server.broadcast import Broadcast
from server.channels.drags import Drags
from server.channels.hub import Hub, SendLimits, Subscriber, View
from server.database import Database
from server.event_log import Event, EventLog, Viewer

DM = Viewer(user_id=1, is_dm=True)
PLAYER = Viewer(user_id=2, is_dm=False)


@pytest.fixture
async def hub(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/hub.db")
    await schema.upgrade(db.url)
    await db.connect()
    async with db.transaction() as tx:
        for user_id in (1, 2):
            await tx.execute(
                "INSERT INTO users (username, email, password_hash, created_at) VALUES (:n, :e, 'x', 'now')",
                {"n": f"u{user_id}", "e": f"u{user_id}@example.com"},
            )
        await tx.execute(
            "INSERT INTO game_sessions (dm_user_id, session_title, session_datetime, duration_minutes, max_players, "
            "created_at) VALUES (1, 'Hub', '2099-01-01 00:00:00', 60, 6, 'now')"
        )
    broadcast = Broadcast("memory://")
    await broadcast.connect()
    hub = Hub(
        EventLog(db, broadcast), broadcast, max_connections=100, sweep_interval=0.2, send_limits=SendLimits(frames=100)
    )
    await hub.start()
    yield hub
    await hub.stop()
    await broadcast.disconnect()
    await db.disconnect()


async def received(subscriber: Subscriber, count: int) -> list[View]:
    views: list[View] = []
    async with asyncio.timeout(5):
        while len(views) < count:
            await subscriber.wake.wait()
            views += [item for item in subscriber.take() if isinstance(item, View)]
    return views


async def record(hub: Hub, count: int, **options) -> list[Event]:
    async with hub.event_log.change(1) as change:
        return [await change.record(1, "tick", {"n": n}, **options) for n in range(count)]


async def record_unpublished(hub: Hub, count: int) -> None:
    """Events committed to the log whose publish never happened (a crash between commit and publish)."""
    from server.event_log import Change

    async with hub.event_log.db.transaction() as tx:
        change = Change(tx, 1)
        for n in range(count):
            await change.record(1, "tick", {"n": n})


async def test_events_arriving_out_of_order_are_dispatched_in_order(hub: Hub):
    subscriber = await hub.join(1, DM, (1, "u1"), "socket")
    # Two commits whose publishes cross: the hub gets 2 before 1.
    from server.event_log import Change

    events = []
    for n in range(2):
        async with hub.event_log.db.transaction() as tx:
            change = Change(tx, 1)
            events.append(await change.record(1, "tick", {"n": n}))
    await hub._on_message(wire.session_channel(1), wire.Events((events[1],)))
    await hub._on_message(wire.session_channel(1), wire.Events((events[0],)))
    views = await received(subscriber, 2)
    assert [view.event_id for view in views] == [1, 2]
    await record(hub, 1)
    assert [view.event_id for view in await received(subscriber, 1)] == [3]  # and 1 was not dispatched twice


async def test_a_lost_publish_is_repaired_by_the_sweep(hub: Hub):
    subscriber = await hub.join(1, DM, (1, "u1"), "socket")
    await record_unpublished(hub, 3)
    views = await received(subscriber, 3)
    assert [view.event_id for view in views] == [1, 2, 3]


async def test_a_lost_publish_is_repaired_when_the_next_event_arrives(hub: Hub):
    hub.sweep_interval = 3600
    subscriber = await hub.join(1, DM, (1, "u1"), "socket")
    await record_unpublished(hub, 2)
    await record(hub, 1)
    views = await received(subscriber, 3)
    assert [view.event_id for view in views] == [1, 2, 3]


async def test_each_event_is_encoded_once_per_audience(hub: Hub):
    dms = [await hub.join(1, DM, (1, "u1"), "socket") for _ in range(3)]
    players = [await hub.join(1, PLAYER, (2, "u2"), "socket") for _ in range(3)]
    async with hub.event_log.change(1) as change:
        await change.record(1, "monster_hp_updated", {"current_hp": 3}, player_data={"condition": "wounded"})
    dm_views = [(await received(s, 1))[0] for s in dms]
    player_views = [(await received(s, 1))[0] for s in players]
    assert all(view is dm_views[0] for view in dm_views)
    assert all(view is player_views[0] for view in player_views)
    assert dm_views[0] is not player_views[0]
    assert dm_views[0].frame is dm_views[0].frame  # encoded once, then shared
    assert "current_hp" in dm_views[0].frame and "current_hp" not in player_views[0].frame


async def test_audiences(hub: Hub):
    dm = await hub.join(1, DM, (1, "u1"), "socket")
    player = await hub.join(1, PLAYER, (2, "u2"), "socket")
    await record(hub, 1, audience="dm")
    await record(hub, 1, audience="user", user_id=2)
    await record(hub, 1)
    assert [v.event_id for v in await received(dm, 2)] == [1, 3]
    assert [v.event_id for v in await received(player, 2)] == [2, 3]


OTHER = Viewer(user_id=3, is_dm=False)


async def test_an_audience_of_users_and_the_redacted_form_for_the_rest(hub: Hub):
    """Live and in replay alike: the listed users get the full form, the rest the redacted form or nothing."""
    viewers = (DM, PLAYER, OTHER)
    subscribers = [await hub.join(1, v, (v.user_id, f"u{v.user_id}"), "socket") for v in viewers]
    async with hub.event_log.change(1) as change:
        await change.record(1, "dice_rolled", {"total": "canary-1"}, audience="users", user_ids=[1, 2])
        await change.record(
            1, "dice_rolled", {"total": "canary-2"}, audience="users", user_ids=[1], redacted_data={"hidden": True}
        )
        await change.record(1, "tick", {})
    expected = {
        1: [(1, {"total": "canary-1"}), (2, {"total": "canary-2"}), (3, {})],
        2: [(1, {"total": "canary-1"}), (2, {"hidden": True}), (3, {})],
        3: [(2, {"hidden": True}), (3, {})],
    }
    for viewer, subscriber in zip(viewers, subscribers, strict=True):
        live = await received(subscriber, len(expected[viewer.user_id]))
        assert [(v.event_id, v.envelope["event_data"]) for v in live] == expected[viewer.user_id]
        replay = [wire.envelope_for(e, viewer) for e in await hub.event_log.since(1, 0, viewer=viewer)]
        assert [(e["event_id"], e["event_data"]) for e in replay if e] == expected[viewer.user_id]
    # A user id that is a prefix or suffix of a member's is no member (the stored list is ",1,2,").
    assert [e.event_id for e in await hub.event_log.since(1, 0, viewer=Viewer(12, False))] == [2, 3]


async def test_an_audience_of_users_needs_users_and_a_session_event_has_no_redacted_form(hub: Hub):
    async with hub.event_log.change(1) as change:
        with pytest.raises(ValueError):
            await change.record(1, "x", {}, audience="users")
        with pytest.raises(ValueError):
            await change.record(1, "x", {}, user_ids=[1])
        with pytest.raises(ValueError):
            await change.record(1, "x", {}, redacted_data={})


async def test_the_players_audience_reaches_every_player_and_not_the_dm_live_and_in_replay(hub: Hub):
    dm = await hub.join(1, DM, (1, "u1"), "socket")
    player = await hub.join(1, PLAYER, (2, "u2"), "socket")
    async with hub.event_log.change(1) as change:
        await change.record(1, "map_token_moved", {"token_id": 7, "label": "canary"}, audience="dm")
        await change.record(1, "map_token_added", {"token_id": 7}, audience="players")
        await change.record(1, "tick", {})
    assert [(v.event_id, v.envelope["event_type"]) for v in await received(dm, 2)] == [
        (1, "map_token_moved"),
        (3, "tick"),
    ]
    assert [(v.event_id, v.envelope["event_type"]) for v in await received(player, 2)] == [
        (2, "map_token_added"),
        (3, "tick"),
    ]
    assert [e.event_id for e in await hub.event_log.since(1, 0, viewer=DM)] == [1, 3]
    assert [e.event_id for e in await hub.event_log.since(1, 0, viewer=PLAYER)] == [2, 3]


async def test_a_subscriber_that_falls_behind_is_closed_not_grown(hub: Hub):
    hub.send_limits = SendLimits(frames=5)
    subscriber = await hub.join(1, DM, (1, "u1"), "socket")
    for _ in range(3):
        await record(hub, 3)
    async with asyncio.timeout(5):
        while subscriber.closed is None:  # noqa: ASYNC110 - `closed` is plain state the hub sets
            await asyncio.sleep(0.01)
    assert subscriber.closed[0] == wire.CLOSE_FELL_BEHIND
    assert len(subscriber.queue) <= 5


async def test_pings_sent_on_time_go_out_at_once_and_faster_ones_coalesce_to_the_newest(hub: Hub):
    """The drag rate rule (server/channels/drags.py) on its own clock: at 20 a second, with frames
    arriving up to a quarter of an interval early or late, each goes out as it arrives; a burst is held
    to the rate and what goes out after it is the newest."""
    now = 1000.0
    hub.drags = Drags(hub, per_second=20, clock=lambda: now)
    dm = await hub.join(1, DM, (1, "u1"), "socket")
    player = await hub.join(1, PLAYER, (2, "u2"), "socket")

    def ping(x: int) -> dict:
        return {"type": "map_ping", "map_id": 1, "x_position": x, "y_position": 0}

    async def seen() -> list[float]:
        async with asyncio.timeout(1):  # the game session's batch of ephemeral frames is handed out
            while not dm.ephemeral:
                await dm.wake.wait()
                dm.wake.clear()
        return [json.loads(frame)["event_data"]["x_position"] for frame in dm.take_ephemeral()]

    for n, jitter in enumerate([0.0, -0.012, 0.012, -0.012, 0.0, 0.012, -0.012, -0.012]):
        now = 1000.0 + n * 0.05 + jitter
        assert await hub.drags.receive(player, ping(n)) is None
        assert await seen() == [n]  # at once: nothing waits for a slot
    now += 0.05
    for n in range(100, 120):  # a burst at one instant, within one turn of the loop: one frame, the newest
        await hub.drags.receive(player, ping(n))
    assert await seen() == [119]
    now += 1.0
    out: list[float] = []
    for n in range(200, 220):  # a burst at one instant, a turn of the loop apart
        await hub.drags.receive(player, ping(n))
        await asyncio.sleep(0)  # the batch of this turn is written
        out += [json.loads(frame)["event_data"]["x_position"] for frame in dm.take_ephemeral()]
    assert out == [200, 201, 202]  # at most 1 + TOLERANCE (2 intervals) at once
    assert await seen() == [219]  # then the rate's next slot, and the newest, never a backlog
    assert player.take_ephemeral() == []  # never echoed to the sender


async def test_a_late_position_does_not_hold_back_the_rest_of_the_drag(hub: Hub):
    """A position that arrives late (a busy server, a slow network) books the next slot from when it
    arrived, so the ones after it, sent on time, arrive early for their slot: up to 2 intervals early they
    still go out at once, so a hiccup of 80 ms does not delay the rest of the drag."""
    now = 1000.0
    hub.drags = Drags(hub, per_second=20, clock=lambda: now)
    dm = await hub.join(1, DM, (1, "u1"), "socket")
    player = await hub.join(1, PLAYER, (2, "u2"), "socket")
    sent = []
    for n in range(10):
        now = 1000.0 + n * 0.05 + (0.08 if n == 3 else 0.0)  # the fourth arrives 80 ms late
        await hub.drags.receive(player, {"type": "map_ping", "map_id": 1, "x_position": n, "y_position": 0})
        await asyncio.sleep(0)  # the batch of this turn is written
        sent += [json.loads(frame)["event_data"]["x_position"] for frame in dm.take_ephemeral()]
    assert sent == list(range(10))  # each one in the turn it arrived in
