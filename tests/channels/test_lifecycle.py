"""Restarts and shutdown: sockets learn the server is restarting, and resume without losing an event."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from tests.live import Client, LiveServer, ServerProcess, game_table, until_connections


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
