"""The hub writes each event's frame bytes straight to uvicorn's transport (server/channels/raw_send.py).
It leans on uvicorn internals: these tests fail when uvicorn changes under it. Real uvicorn, real sockets."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

from server.channels.raw_send import RawSendProtocol
from tests.live import LiveServer, closed_with, game_table

# Frames whose lengths take each of the 7-bit, 16-bit and 64-bit encodings (RFC 6455 5.2), the last one
# just under MAX_EVENT_BYTES of event data; the length counts UTF-8 bytes, not characters.
FILLERS = ["", "x" * 30, "é" * 100, "x" * 65_000, "x" * 65_480]


def test_uvicorn_is_the_version_raw_send_was_written_for():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("uvicorn"))
    assert re.fullmatch(r"uvicorn\[standard\]==" + re.escape(version("uvicorn")), pin)
    # Our protocol is uvicorn's default one with a handle on itself; if the default moves, so must we.
    assert issubclass(RawSendProtocol, AutoWebSocketsProtocol)  # type: ignore[arg-type]


async def test_events_of_every_frame_size_arrive_whole_and_in_order_through_raw_writes(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    head = (await socket.frame())["head_event_id"]
    (subscriber,) = [s for c in server.services.hub._channels.values() for s in c.subscribers]
    async with server.services.event_log.change(session_id) as change:
        for n, filler in enumerate(FILLERS):
            await change.record(session_id, "note", {"n": n, "filler": filler}, audience="dm")
    events = await socket.events(len(FILLERS))
    assert [e["event_id"] for e in events] == list(range(head + 1, head + len(FILLERS) + 1))
    assert [e["event_data"]["filler"] for e in events] == FILLERS
    # The frames went out through the protocol's raw writes, not through ASGI sends.
    assert isinstance(subscriber.sink, RawSendProtocol)
    assert subscriber.sent_through == head + len(FILLERS)
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"


async def test_a_close_from_the_hub_reaches_the_client(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    await socket.frame()
    await dm.ok("/api/auth/logout.php")
    assert await closed_with(socket) == 4409
