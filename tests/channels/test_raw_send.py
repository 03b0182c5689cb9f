"""The hub writes each event's frame bytes straight to uvicorn's transport (server/channels/raw_send.py).
It leans on uvicorn internals: these tests fail when uvicorn changes under it. Real uvicorn, real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol
from websockets.frames import apply_mask

from server.channels.raw_send import _BETWEEN_FRAMES, RawSendProtocol, waiting_in
from tests.channels.test_slow_readers import slow_socket
from tests.live import LiveServer, closed_with, game_table

# Frames whose lengths take each of the 7-bit, 16-bit and 64-bit encodings (RFC 6455 5.2), the last one
# just under MAX_EVENT_BYTES of event data; the length counts UTF-8 bytes, not characters.
FILLERS = ["", "x" * 30, "é" * 100, "x" * 65_000, "x" * 65_480]


def test_uvicorn_is_the_version_raw_send_was_written_for():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("uvicorn"))
    assert re.fullmatch(r"uvicorn\[standard\]==" + re.escape(version("uvicorn")), pin)
    # So is websockets, whose parser the reads of whole frames step around.
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("websockets"))
    assert pin == "websockets==" + version("websockets")
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


async def test_frames_are_answered_in_the_order_sent_from_before_the_hello_on(server: LiveServer):
    """The socket is handed from its ASGI call to the hub after the replay: a frame sent before the hello is
    still answered, and frames behind one that waits on the database (a drag) keep their order."""
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    await socket.send({"type": "ping"})  # before the hello has even been read
    assert [(await socket.frame())["type"] for _ in range(2)] == ["hello", "pong"]
    await socket.send({"type": "drag", "token_id": 987_654, "x_position": 1, "y_position": 2})  # no such token
    await socket.send({"type": "ping"})
    await socket.send("not json")
    await socket.send({"type": "ping"})
    answers = [await socket.frame() for _ in range(4)]
    assert [a["type"] for a in answers] == ["error", "pong", "error", "pong"]
    assert answers[0]["error"] == "resource_not_found" and answers[2]["error"] == "bad_frame"


async def test_a_reader_that_pauses_gets_every_event_in_order_once_it_reads_again(server: LiveServer):
    """Frames queue in the hub while the client's transport is full and go out when it drains."""
    dm, _, session_id = await game_table(server, players=0)
    paused = await slow_socket(server, dm, session_id)
    head = json.loads(await paused.recv())["head_event_id"]
    async with server.services.event_log.change(session_id) as change:
        # 6 MB: more than the kernel buffers hold (the rest waits in the hub), less than the queue's limits
        for n in range(100):
            await change.record(session_id, "note", {"n": n, "filler": "x" * 60_000}, audience="dm")
    received = []
    async with asyncio.timeout(30):
        while len(received) < 100:
            frame = json.loads(await paused.recv())
            if frame["type"] == "event":
                received.append(frame["event_id"])
    assert received == list(range(head + 1, head + 101))
    await paused.close()


def client_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A frame as a browser sends it: masked (RFC 6455 5.3), with a 7- or 16-bit length."""
    mask = os.urandom(4)
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return bytes([(0x80 if fin else 0) | opcode]) + length + mask + apply_mask(payload, mask)


PING = client_frame(b'{"type":"ping"}')


async def test_frames_are_read_whole_however_the_reads_cut_them(server: LiveServer):
    """Whole text frames skip websockets' parser only while it stands between frames: a frame cut by the
    reads, a fragmented message, a 16-bit length and bad UTF-8 are read as the RFC says."""
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    await socket.frame()
    (subscriber,) = [s for c in server.services.hub._channels.values() for s in c.subscribers]
    parser = subscriber.sink.conn.parser
    write = socket.connection.transport.write

    async def pongs(count: int) -> None:
        assert [(await socket.frame())["type"] for _ in range(count)] == ["pong"] * count

    assert waiting_in(parser) is _BETWEEN_FRAMES  # where the reads without the parser begin
    write(PING + PING + client_frame(b'{"type":"ping"}' + b" " * 300))  # whole frames, the last 16-bit
    await pongs(3)
    # A frame cut after its header: the parser holds it and reads the rest; what follows is whole again.
    write(PING[:2])
    for _ in range(500):  # until the server has read the header
        if waiting_in(parser) is not _BETWEEN_FRAMES:
            break
        await asyncio.sleep(0.01)
    assert waiting_in(parser) is not _BETWEEN_FRAMES
    write(PING[2:] + PING)
    await pongs(2)
    write(PING)
    await pongs(1)
    # One byte per read.
    for byte in PING:
        write(bytes([byte]))
        await asyncio.sleep(0.002)
    await pongs(1)
    # A message in two fragments, then a whole frame in the same read.
    write(client_frame(b'{"type":', fin=False) + client_frame(b'"ping"}', opcode=0x0) + PING)
    await pongs(2)
    # Bad UTF-8 closes the socket (1007), here as on the parser's path.
    write(client_frame(b'{"type":"\xff"}'))
    assert await closed_with(socket) == 1007
