"""Clients that stop reading: the server lets go of them by frames, by bytes and by time, and the
others do not notice. Real uvicorn, real sockets with a tiny receive buffer, events written through the
real event log."""

from __future__ import annotations

import asyncio
import dataclasses
import socket as sockets
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.settings import Settings
from tests.live import Client, LiveServer, game_table, until_connections

EVENTS = 2000
FILLER = "x" * 4000  # 2,000 events of 4 KB: far more than the kernel buffers between server and client


async def slow_socket(server: LiveServer, client: Client, session_id: int) -> ClientConnection:
    """A socket that stops reading after the handshake: a 4 KB receive buffer and a one-frame queue."""
    raw = sockets.socket()
    raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    raw.setblocking(False)
    return await connect(
        f"ws://127.0.0.1:{server.port}/api/realtime/ws?session_id={session_id}",
        sock=raw,
        max_queue=1,
        additional_headers={"Cookie": f"sessionToken={client.http.cookies['sessionToken']}"},
    )


async def write_events(server: LiveServer, session_id: int) -> None:
    log = server.services.event_log
    for batch in range(EVENTS // 10):  # transactions of 10 events: bursts a reader that keeps up absorbs
        async with log.change(session_id) as change:
            for n in range(10):
                await change.record(session_id, "note", {"n": batch * 10 + n, "filler": FILLER}, audience="dm")


async def drain(slow: ClientConnection) -> tuple[int, int | None]:
    """Read the slow socket to its end now: (event frames it got, the close code if a close frame came)."""
    frames = 0
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(30):
            while True:
                frames += '"type":"event"' in str(await slow.recv())
    return frames, closed.value.rcvd.code if closed.value.rcvd is not None else None


async def slow_and_healthy(settings: Settings, **limits: Any) -> None:
    """A slow reader is cut off under `limits` while a healthy socket of the same game gets every event."""
    server = await LiveServer(dataclasses.replace(settings, **limits)).start()
    try:
        dm, _, session_id = await game_table(server, players=0)
        healthy = await dm.socket(session_id)
        head = (await healthy.frame())["head_event_id"]
        slow = await slow_socket(server, dm, session_id)
        writer = asyncio.create_task(write_events(server, session_id))
        received = [e["event_id"] for e in await healthy.events(EVENTS, timeout=90)]
        await writer
        assert received == list(range(head + 1, head + EVENTS + 1))
        # The server lets go of the slow socket although it still has not read a byte.
        await until_connections(dm, 1)
        frames, code = await drain(slow)
        # Closed with 4408 when the close frame could still be queued, dropped when the socket was stuck.
        assert frames < EVENTS and code in (4408, None)
        await dm.aclose()
    finally:
        await server.stop()


async def test_a_slow_reader_is_cut_off_by_frames_without_hurting_the_others(settings):
    await slow_and_healthy(settings, send_queue_limit=32)


async def test_a_slow_reader_is_cut_off_by_the_bytes_it_has_queued(settings):
    # 64 KiB is 16 of these events; the frame limit is far away.
    await slow_and_healthy(settings, send_queue_limit=100_000, send_queue_bytes=64 * 1024)


async def test_a_reader_that_stopped_draining_is_cut_off_by_time(settings):
    limits = {"send_queue_limit": 100_000, "send_queue_bytes": 1024**3, "send_stall_seconds": 1}
    server = await LiveServer(dataclasses.replace(settings, **limits)).start()
    try:
        dm, _, session_id = await game_table(server, players=0)
        slow = await slow_socket(server, dm, session_id)
        await write_events(server, session_id)
        # Nothing more is written: the hub's ticker notices the queue has not moved.
        await until_connections(dm, 0)
        frames, code = await drain(slow)
        assert frames < EVENTS and code in (4408, None)
        await dm.aclose()
    finally:
        await server.stop()
