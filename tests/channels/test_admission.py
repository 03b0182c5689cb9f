"""Who may open a connection, and how many: the per-user cap on open sockets and parked polls, the
per-address connection rate, and the Origin check (scheme, host and port)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.live import LiveServer, Socket, game_table, until_connections


async def refused(socket: Socket) -> tuple[str, int]:
    """The error code of a refusal and the close code that follows it."""
    frame = await socket.frame()
    assert frame["type"] == "error", frame
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await socket.connection.recv()
    assert closed.value.rcvd is not None
    return frame["error"], closed.value.rcvd.code


async def test_one_user_cannot_take_more_than_their_share_of_connections(settings):
    server = await LiveServer(dataclasses.replace(settings, max_user_connections=3)).start()
    try:
        dm, (player,), session_id = await game_table(server, players=1)
        sockets = [await dm.socket(session_id) for _ in range(2)]
        for socket in sockets:
            assert (await socket.frame())["type"] == "hello"
        # A parked poll counts too: with it the DM is at 3.
        parked = asyncio.create_task(dm.get("/api/realtime/poll.php", session_id=session_id, last_event_id=10**9))
        await until_connections(dm, 3)
        assert await refused(await dm.socket(session_id)) == ("too_many_connections", 4429)
        poll = await dm.get("/api/realtime/poll.php", session_id=session_id, timeout=0)
        assert poll.status_code == 429 and poll.json()["error"] == "too_many_connections"
        assert int(poll.headers["Retry-After"]) > 0
        # Other users are not affected.
        other = await player.socket(session_id)
        assert (await other.frame())["type"] == "hello"
        # Once one of the DM's connections ends, the DM may open another.
        await sockets[0].close()
        await until_connections(dm, 3)
        again = await dm.socket(session_id)
        assert (await again.frame())["type"] == "hello"
        parked.cancel()
        await dm.aclose()
        await player.aclose()
    finally:
        await server.stop()


async def test_one_address_cannot_open_connections_faster_than_the_rate(settings):
    server = await LiveServer(dataclasses.replace(settings, connection_rate="5/minute")).start()
    try:
        dm, (player,), session_id = await game_table(server, players=1)
        for n in range(5):
            socket = await (dm if n % 2 else player).socket(session_id)
            assert (await socket.frame())["type"] == "hello"
            await socket.close()
        # The sixth within the minute is refused before anything else is looked at, whoever it is.
        assert await refused(await dm.socket(session_id)) == ("rate_limit_exceeded", 4429)
        assert await refused(await player.socket(999_999)) == ("rate_limit_exceeded", 4429)
        # HTTP is not counted: the long-poll still answers.
        poll = await dm.get("/api/realtime/poll.php", session_id=session_id, timeout=0)
        assert poll.status_code == 200
        await dm.aclose()
        await player.aclose()
    finally:
        await server.stop()


async def test_the_origin_must_match_in_scheme_host_and_port(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    host = f"127.0.0.1:{server.port}"
    for origin in (f"https://{host}", "http://127.0.0.1:1", f"http://localhost:{server.port}", "null", "http://"):
        with pytest.raises(InvalidStatus) as refusal:
            await dm.socket(session_id, origin=origin)
        assert refusal.value.response.status_code == 403, origin
    for origin in (f"http://{host}", f"HTTP://{host}/"):
        socket = await dm.socket(session_id, origin=origin)
        assert (await socket.frame())["type"] == "hello", origin
