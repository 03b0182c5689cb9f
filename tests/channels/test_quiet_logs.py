"""What anyone on the network can make the server log: refused Origins and clients that hang up early are
normal and must not write ERROR lines or tracebacks (anyone could flood the log with them)."""

from __future__ import annotations

import asyncio
import logging
import socket as sockets
import struct
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.live import LiveServer, game_table, until_connections


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self.records
            if r.levelno >= logging.ERROR or r.exc_info or "Exception in ASGI application" in r.getMessage()
        ]


@pytest.fixture
def records(server: LiveServer) -> Iterator[Records]:
    """Warnings and errors of uvicorn (which does not propagate to the root logger) and of the server."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


async def test_refused_origins_do_not_write_errors(server: LiveServer, records: Records):
    dm, _, session_id = await game_table(server, players=0)
    for _ in range(20):
        with pytest.raises(InvalidStatus) as refusal:
            await dm.socket(session_id, origin="https://evil.example.com")
        assert refusal.value.response.status_code == 403
    assert records.errors() == []


def hang_up_after_the_handshake(port: int, path: str, cookie: str) -> None:
    """Open a WebSocket by hand, wait for the 101, then reset the connection before reading anything else."""
    with sockets.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                f"Cookie: sessionToken={cookie}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = raw.recv(4096)
            assert chunk, "closed before the handshake answer"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 101"), answer[:100]
        raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not FIN


async def test_clients_that_hang_up_before_the_hello_or_during_the_replay_are_not_errors(
    server: LiveServer, records: Records
):
    dm, _, session_id = await game_table(server, players=0)
    cookie = dm.http.cookies["sessionToken"]
    for n in range(50):
        path = f"/api/realtime/ws?session_id={session_id}&last_event_id={0 if n % 2 else 10**9}"
        await asyncio.to_thread(hang_up_after_the_handshake, server.port, path, cookie)
    await until_connections(dm, 0)  # every one of them has left the hub
    assert records.errors() == []
    # The server is none the worse for it.
    socket = await dm.socket(session_id)
    assert (await socket.frame())["type"] == "hello"
