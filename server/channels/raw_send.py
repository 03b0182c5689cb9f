"""Writing event frames straight to a WebSocket's transport: the one module that knows uvicorn's internals.

ASGI has no way to write bytes that are already framed, and its `send` costs an await, a message dict and
a frame encoding per connection per event. The hub frames each event once per audience (`text_frame`)
and, through `FrameSink`, writes the same bytes to every connection whose transport is not paused,
without waking a task per connection. A connection whose transport is paused (its client reads slowly)
queues in the hub as before, under the same limits.

Frames written to one connection in one turn of the event loop go out in one write (one system call for
a drag fanned out at several tokens' pace, not one each). And a text frame the app can answer at once
(`on_text`, set once the connection is live: drags) is handed to it where it is read, without a queue, a
task wake-up and pausing the socket's reading per frame; one it cannot goes through ASGI as before, and so
does everything after it while the ASGI queue holds anything (frames stay in order).

`RawSendProtocol` is uvicorn's own WebSocket protocol (websockets' sans-I/O implementation, the one
uvicorn picks by default) with a handle on itself in the scope's extensions. It relies on attributes of
that class (transport, conn, writable, close_sent, close_timer, handshake_complete, queue, shutdown,
stop_keepalive, frames, curr_msg_data_type, send_receive_event_to_app): uvicorn is pinned in pyproject.toml
and tests/channels/test_raw_send.py fails when they change.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

EXTENSION = "becmi.raw_send"
_TEXT = 0x81  # FIN + text opcode; server frames are never masked (RFC 6455 5.1)


def text_frame(payload: bytes) -> bytes:
    """A whole, unmasked, uncompressed text frame: the same bytes for every connection."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT, 127, size)
    return header + payload


class FrameSink(Protocol):
    """What the hub needs of a connection to write frames to it directly."""

    def can_write(self) -> bool: ...

    def write_frame(self, frame: bytes) -> None: ...


class RawSendProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, reachable by the app as `scope["extensions"][EXTENSION]["sink"]`."""

    _out: list[bytes] | None = None  # frames written in this turn of the event loop, not yet sent
    # Answers a text frame where it is read: True when it did, False to hand it to ASGI.
    on_text: Callable[[str], bool] | None = None

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

    def _write_out(self) -> None:
        out, self._out = self._out, None
        if out and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def send_receive_event_to_app(self) -> None:
        on_text = self.on_text
        if (
            on_text is not None
            and self.curr_msg_data_type == "text"
            and len(self.frames) == 1
            and self.queue.empty()
            and not self.close_sent
        ):
            try:
                text = self.frames[0].decode()
            except UnicodeDecodeError:
                text = None
            if text is not None and on_text(text):
                self.frames = []
                return
        super().send_receive_event_to_app()

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

    def close_now(self, code: int, reason: str, grace: float) -> None:
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


def sink_of(scope: Any) -> RawSendProtocol | None:
    found = scope.get("extensions", {}).get(EXTENSION)
    return None if found is None else found["sink"]
