"""Writing event frames straight to a WebSocket's transport: the one module that knows uvicorn's internals.

ASGI has no way to write bytes that are already framed, and its `send` costs an await, a message dict and
a frame encoding per connection per event. The hub frames each event once per audience (`text_frame`)
and, through `FrameSink`, writes the same bytes to every connection whose transport is not paused,
without waking a task per connection. A connection whose transport is paused (its client reads slowly)
queues in the hub as before, under the same limits.

`RawSendProtocol` is uvicorn's own WebSocket protocol (websockets' sans-I/O implementation, the one
uvicorn picks by default) with a handle on itself in the scope's extensions. Once the app has sent the
hello and the replay it `detach`es the socket: the app's ASGI call returns (its task, its middleware
coroutines and the handshake's objects go) while the socket stays open, and the protocol calls an
`OpenSocket` with what the client sends, when its transport takes frames again and when it ends. An idle
socket then costs no task at all. A frame it can answer at once (pings, drags the hub can take now) is
answered where uvicorn reads it, without pausing the socket's reading; one that needs an await pauses
reading until it is answered, and the frames after it wait their turn (in order).

Frames written to one connection in one turn of the event loop go out in one write (one system call for
a drag fanned out at several tokens' pace, not one each).

What a detached socket reads: whole, small, masked text frames (every frame a client sends but a rare
one) are cut from the bytes read and handed over without websockets' parser (its generators, Frame
object and checks cost more than the rest of a drag's reading), but only while that parser stands
between two frames with no fragmented message begun; any other frame, and a frame cut by the read, goes
through the parser as before, which then rules until it stands between frames again.

It relies on attributes and methods of that class (transport, conn, writable, close_sent, close_timer,
handshake_complete, queue, frames, curr_msg_data_type, read_paused, tasks, shutdown, stop_keepalive,
run_asgi, send_receive_event_to_app, data_received, scope, request, response) and of websockets' sans-I/O
connection (state, parser, current_size, max_message_size; its parser waits in `StreamReader.at_eof`
between frames): both are pinned in pyproject.toml and tests/channels/test_raw_send.py fails when they
change.
"""

from __future__ import annotations

import struct
from collections.abc import Coroutine
from typing import Any, Protocol

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import apply_mask
from websockets.protocol import State
from websockets.streams import StreamReader

EXTENSION = "becmi.raw_send"
_TEXT = 0x81  # FIN + text opcode; server frames are never masked (RFC 6455 5.1)
CLOSE_GRACE = 2.0  # seconds a closing socket has to take its close frame
_BETWEEN_FRAMES = StreamReader.at_eof.__code__  # where websockets' parser waits for the next frame
_NO_LIMIT = 1 << 62


def text_frame(payload: bytes) -> bytes:
    """A whole, unmasked, uncompressed text frame: the same bytes for every connection."""
    size = len(payload)
    if size < 126:
        header = bytes((_TEXT, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT, 127, size)
    return header + payload


class FrameSink(Protocol):
    """What the hub needs of a connection to write frames to it directly."""

    def can_write(self) -> bool: ...

    def write_frame(self, frame: bytes) -> None: ...

    def write_now(self, frames: bytes) -> None: ...

    def close_now(self, code: int, reason: str, grace: float = CLOSE_GRACE) -> None: ...


class OpenSocket(Protocol):
    """What a detached socket reports to (server/channels/websocket.py)."""

    def received(self, text: str | None) -> bool:
        """A message from the client (None: a binary one): True when it was answered at once, False when
        it waits (reading is then paused until `resume_reading`)."""

    def writable(self) -> None:
        """The transport takes frames again, after it was paused."""

    def ended(self) -> None:
        """The socket is closing or closed, from either side; called once."""


class _Ended:
    """Stands in for the ASGI receive queue once the app's call has returned: uvicorn reports the end of
    the socket by putting a disconnect message in it."""

    __slots__ = ("socket",)

    def __init__(self, socket: OpenSocket) -> None:
        self.socket: OpenSocket | None = socket

    def put_nowait(self, message: Any) -> None:
        socket, self.socket = self.socket, None
        if socket is not None:
            socket.ended()

    def empty(self) -> bool:
        return True


class _Flag:
    """Stands in for the `writable` Event once nothing awaits it: a detached socket is told by callback."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def set(self) -> None:
        self.value = True

    def clear(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


class RawSendProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, reachable by the app as `scope["extensions"][EXTENSION]["sink"]`."""

    socket: OpenSocket | None = None  # set by `detach`
    # Whether websockets' parser stands between two frames with no fragmented message begun (frames are
    # then cut without it); None: not known since it last read.
    _between: bool | None = None
    _out: list[bytes] | None = None  # frames written in this turn of the event loop, not yet sent

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.config.ws_per_message_deflate:
            scope["extensions"][EXTENSION] = {"sink": self}

    def is_open(self) -> bool:
        return (
            self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and self.conn.state is State.OPEN
            and not self.transport.is_closing()
        )

    def can_write(self) -> bool:
        """Open, and its transport is not paused (its buffer is under the high-water mark)."""
        return self.writable.is_set() and self.is_open()

    def write_frame(self, frame: bytes) -> None:
        if self._out is None:
            self._out = [frame]
            self.loop.call_soon(self._write_out)
        else:
            self._out.append(frame)

    def write_now(self, frames: bytes) -> None:
        """Write whole frames at once (at the end of a turn), after those `write_frame` took in this turn."""
        if self._out is not None:
            self._out.append(frames)
        else:
            self.transport.write(frames)

    def _write_out(self) -> None:
        out, self._out = self._out, None
        if out and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    async def until_writable(self) -> None:
        await self.writable.wait()

    def shutdown(self) -> None:
        """The server is stopping. uvicorn's own shutdown sends a close frame, which fails (InvalidState,
        and the server's shutdown with it) when the client's close came first and was answered: then the
        transport only has to go, dropped with what the client did not read if its buffer is still full."""
        if self.handshake_complete and not self.close_sent and self.conn.state is not State.OPEN:
            self.stop_keepalive()
            if self.close_timer is not None:
                self.close_timer.cancel()
            self._drop()
            return
        if not self.close_sent and self.handshake_complete:
            self._write_out()  # what was written this turn goes before uvicorn's close frame
        super().shutdown()

    def detach(self, socket: OpenSocket) -> None:
        """Let the app's ASGI call return while the socket stays open; from now on `socket` hears of it.
        Messages that arrived before are handed over first. The handshake's objects and the ASGI queue
        and Event are let go: nothing awaits them any more."""
        pending = []
        while not self.queue.empty():
            pending.append(self.queue.get_nowait())
        self.socket = socket
        self.queue = _Ended(socket)  # type: ignore[assignment]
        self.writable = _Flag(self.writable.is_set())  # type: ignore[assignment]
        # The request also stays in websockets' parser, which cannot let go of it: its headers can.
        self.request.headers.clear()
        del self.scope, self.request, self.response
        self.server = self.client = None  # the addresses, for uvicorn's handshake log lines only
        answered = True
        for message in pending:
            if message["type"] == "websocket.receive":
                answered = socket.received(message.get("text")) and answered
            else:
                self.queue.put_nowait(message)
        if answered:
            self.resume_reading()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as one of the server's tasks (a graceful shutdown waits for it)."""
        task = self.loop.create_task(work)
        task.add_done_callback(self.on_task_complete)
        self.tasks.add(task)

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.socket is not None:
            if self._between is None:
                conn = self.conn
                self._between = waiting_in(conn.parser) is _BETWEEN_FRAMES and conn.current_size is None
            if self._between and self.conn.state is State.OPEN:
                data = self._take_text_frames(data)
                if not data:
                    return
            self._between = None  # the parser reads what is left: where it stands is known again after
        super().data_received(data)

    def _take_text_frames(self, data: bytes) -> bytes:
        """Hand the whole, masked, final text frames (7- or 16-bit length, within the size limit, valid
        UTF-8) at the front of `data` to the socket; the rest of `data` is for websockets' parser. Called
        only while that parser stands between frames (`_between`) with the connection open."""
        limit = self.conn.max_message_size or _NO_LIMIT
        size, at = len(data), 0
        while size - at >= 6 and not self.close_sent:
            if data[at] != 0x81 or data[at + 1] < 0x80:  # FIN, no extension bits, text; masked
                break
            length, start = data[at + 1] & 0x7F, at + 6
            if length == 126:
                length, start = (data[at + 2] << 8) | data[at + 3], at + 8
            elif length == 127:
                break
            end = start + length
            if end > size or length > limit:
                break
            try:
                text = apply_mask(data[start:end], data[start - 4 : start]).decode()
            except UnicodeDecodeError:
                break  # the parser's path closes with 1007
            at = end
            self._hand_over(text)
        return data[at:] if at else data

    def send_receive_event_to_app(self) -> None:
        if self.socket is None:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return
        text = None
        if self.curr_msg_data_type == "text":
            try:
                text = data.decode()
            except UnicodeDecodeError:
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        self._hand_over(text)

    def _hand_over(self, text: str | None) -> None:
        assert self.socket is not None
        if not self.socket.received(text) and not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.socket is not None:
            self.socket.writable()

    async def run_asgi(self) -> None:
        """uvicorn's, except that a detached socket stays open when the app's call returns."""
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None and self.socket is None:
            self.transport.close()

    def close_now(self, code: int, reason: str, grace: float = CLOSE_GRACE) -> None:
        """Send the close frame without waiting for a paused transport and end the app's `receive` with a
        disconnect. The transport goes when the client answers, or after `grace` seconds (dropped, with
        whatever it had not read, if its buffer is still full)."""
        if not self.is_open():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._write_out()
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(grace, self._drop)

    def _drop(self) -> None:
        self.close_timer = None
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()


def waiting_in(parser: Any) -> Any:
    """The code where a generator-based parser (websockets') waits: its innermost `yield from`."""
    while parser.gi_yieldfrom is not None:
        parser = parser.gi_yieldfrom
    return parser.gi_code


def sink_of(scope: Any) -> RawSendProtocol | None:
    found = scope.get("extensions", {}).get(EXTENSION)
    return None if found is None else found["sink"]
