"""Restarts and shutdown: sockets learn the server is restarting, and resume without losing an event."""

from __future__ import annotations

import asyncio
import base64
import os
import socket

import pytest
from websockets.exceptions import ConnectionClosed

from tests.live import Client, LiveServer, ServerProcess, game_table, map_image, until_connections, upload_map


async def test_sigterm_closes_sockets_with_1012_and_the_process_exits(tmp_path):
    server = await ServerProcess({"DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db"}, tmp_path / "server.log").start()
    try:
        dm, _, session_id = await game_table(server, players=0)  # type: ignore[arg-type]
        socket = await dm.socket(session_id)
        await socket.frame()
        parked = asyncio.create_task(dm.get("/api/realtime/poll.php", session_id=session_id, last_event_id=10**9))
        await until_connections(dm, 2)  # the socket and the parked poll
        server.process.terminate()
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await socket.connection.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        poll = await asyncio.wait_for(parked, 10)  # the parked poll is answered, not dropped
        assert poll.status_code == 200 and poll.json()["data"]["events"] == []
        # uvicorn shuts down gracefully, then re-raises the signal, as a process killed by it would exit
        assert await asyncio.to_thread(server.process.wait, 15) in (0, -15)
        server.process = None
    finally:
        await server.stop()


async def test_after_a_restart_a_socket_resumes_and_gets_what_happened_while_away(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    socket = await player.socket(session_id, last_event_id=10**9)
    last_seen = (await socket.frame())["head_event_id"]
    await server.restart()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(5):
            await socket.connection.recv()
    await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 33})
    resumed = await player.socket(session_id, last_event_id=last_seen)
    assert (await resumed.frame())["type"] == "hello"
    event = await resumed.event()
    assert event["event_id"] == last_seen + 1 and event["event_data"]["volume"] == 33


async def test_clients_work_against_a_process(tmp_path):
    server = await ServerProcess({"DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db"}, tmp_path / "server.log").start()
    try:
        client = await Client(server).register()  # type: ignore[arg-type]
        assert (await client.get("/api/auth/verify.php")).json()["data"]["authenticated"] is True
    finally:
        await server.stop()


async def _socket_that_stops_reading(server: ServerProcess, client: Client, session_id: int) -> asyncio.StreamWriter:
    """A WebSocket whose client reads nothing after the upgrade, with a small receive buffer: frames for
    it soon wait in the server (its transport paused, events queued)."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
    reader, writer = await asyncio.open_connection(sock=raw)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /api/realtime/ws?session_id={session_id} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {server.url}\r\nCookie: sessionToken={client.http.cookies['sessionToken']}\r\n\r\n".encode()
    )
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).startswith(b"HTTP/1.1 101")
    return writer


async def test_a_socket_closing_with_events_queued_for_it_leaves_the_server_serving(tmp_path):
    # Once a regression: the sender of a socket that closed with frames still queued for it spun without
    # yielding, so the event loop froze: no request was answered and SIGTERM never ended the process.
    server = await ServerProcess({"DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db"}, tmp_path / "server.log").start()
    try:
        dm, _, session_id = await game_table(server, players=0)  # type: ignore[arg-type]
        stuck = await _socket_that_stops_reading(server, dm, session_id)
        map_id = (await upload_map(dm, session_id, map_image())).json()["data"]["map_id"]
        stroke = {"map_id": map_id, "drawing_type": "stroke", "path_data": [[1234.5678, 8765.4321]] * 2000}
        for _ in range(100):  # ~5 MB of events for a socket that takes none: more than the kernel buffers
            await dm.ok("/api/session/maps/drawings/add.php", stroke)
        stuck.write(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # the client's close (1000), masked with zeros
        await stuck.drain()
        await until_connections(dm, 0, timeout=15)  # answered: the server still serves, and let it go
        server.process.terminate()
        assert await asyncio.to_thread(server.process.wait, 20) in (0, -15)
        server.process = None
        stuck.close()
    finally:
        await server.stop()
