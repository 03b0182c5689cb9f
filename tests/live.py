"""Test support: a real uvicorn server on a real port, and clients that talk to it as a browser would
(cookie jar, CSRF header, WebSocket with Origin). Nothing of the server is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server import accounts, serve
from server.services import Services, services
from server.settings import Settings

PASSWORD = "correct horse battery"
_names = itertools.count(1)


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self.clients: list[Client] = []  # closed when the server stops

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> Any:
        return self._server.config.app

    @property
    def services(self) -> Services:
        return services(self.app)

    async def start(self) -> LiveServer:
        self._server = serve.server(self.settings, "127.0.0.1", self.port, log_level="warning")
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(20):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("server stopped during start-up")
                await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._task is None:
            return
        for client in self.clients:
            await client.aclose()
        self.clients.clear()
        self._server.should_exit = True
        async with asyncio.timeout(20):
            await self._task
        self._task = None

    async def restart(self) -> None:
        """Stop and start again on the same port; the clients stay open."""
        clients, self.clients = self.clients, []
        await self.stop()
        await self.start()
        self.clients = clients


@dataclass
class Socket:
    """A test's WebSocket. Its waits are long (15 s): they end as soon as the frame comes, and a CI machine
    running the suites in parallel can be slow to deliver it."""

    connection: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def frame(self, timeout: float = 15.0) -> dict[str, Any]:
        import json

        async with asyncio.timeout(timeout):
            raw = await self.connection.recv()
        message = json.loads(raw)
        self.frames.append(message)
        return message

    async def event(self, event_type: str | None = None, timeout: float = 15.0) -> dict[str, Any]:
        """The next event frame (of `event_type`, if given), skipping presence and pong frames."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.frame(timeout)
                if message["type"] == "event" and (event_type is None or message["event_type"] == event_type):
                    return message

    async def events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return [await self.event(timeout=timeout) for _ in range(count)]

    async def events_of(self, prefix: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The next `count` events whose event_type starts with `prefix`, skipping the others."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                event = await self.event(timeout=timeout)
                if event["event_type"].startswith(prefix):
                    found.append(event)
        return found

    async def send(self, message: Any) -> None:
        import json

        await self.connection.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def close(self) -> None:
        await self.connection.close()


async def closed_with(socket: Socket, timeout: float = 5.0) -> int:
    """Read until the server closes the socket; return the close code."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.connection.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


class Client:
    """One browser: a cookie jar, the latest CSRF token, and its sockets."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.url, timeout=40)
        self.csrf: str | None = None
        self.user: dict[str, Any] | None = None
        self.sockets: list[Socket] = []
        server.clients.append(self)

    @property
    def user_id(self) -> int:
        assert self.user is not None
        return int(self.user["user_id"])

    def _remember(self, response: httpx.Response) -> httpx.Response:
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("data"), dict) and body["data"].get("csrf_token"):
                self.csrf = body["data"]["csrf_token"]
        return response

    async def register(self, username: str | None = None, password: str = PASSWORD) -> Client:
        username = username or f"user{next(_names)}"
        response = await self.http.post(
            "/api/auth/register.php",
            json={"username": username, "email": f"{username}@example.com", "password": password},
        )
        assert response.status_code == 200, response.text
        self._remember(response)
        self.user = response.json()["data"]
        return self

    async def login(self, identifier: str, password: str = PASSWORD) -> httpx.Response:
        response = self._remember(
            await self.http.post("/api/auth/login.php", json={"username": identifier, "password": password})
        )
        if response.status_code == 200:
            self.user = response.json()["data"]
        return response

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self._remember(await self.http.post(path, json=json, headers=headers, **kwargs))

    async def send(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        """Any method (PUT, PATCH, DELETE), with the CSRF header."""
        headers = kwargs.pop("headers", {})
        if self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self._remember(await self.http.request(method, path, json=json, headers=headers, **kwargs))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return self._remember(await self.http.get(path, params=params))

    async def ok(self, path: str, json: Any = None) -> dict[str, Any]:
        """POST that must succeed; returns `data`."""
        response = await self.post(path, json)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()["data"]

    async def socket(self, session_id: int, last_event_id: int = 0, origin: str | None = "same") -> Socket:
        url = f"ws://127.0.0.1:{self.server.port}/api/realtime/ws?session_id={session_id}&last_event_id={last_event_id}"
        headers = {}
        cookie = self.http.cookies.get("sessionToken")
        if cookie:
            headers["Cookie"] = f"sessionToken={cookie}"
        connection = await connect(
            url,
            additional_headers=headers,
            origin=self.server.url if origin == "same" else origin,  # type: ignore[arg-type]
            open_timeout=10,
        )
        socket = Socket(connection)
        self.sockets.append(socket)
        return socket

    async def aclose(self) -> None:
        for socket in self.sockets:
            with contextlib.suppress(Exception):
                await socket.close()
        await self.http.aclose()


async def game_table(server: LiveServer, players: int = 2) -> tuple[Client, list[Client], int]:
    """A DM with a new game session and `players` players who accepted their invitations."""
    dm = await Client(server).register()
    session = await dm.ok(
        "/api/session/create.php",
        {"session_title": "Keep on the Borderlands", "session_datetime": "2099-01-01 19:00:00"},
    )
    seated = []
    for _ in range(players):
        player = await Client(server).register()
        await dm.ok(
            "/api/session/invite-player.php", {"session_id": session["session_id"], "username": player.user["username"]}
        )
        await player.ok("/api/session/accept-invitation.php", {"session_id": session["session_id"]})
        seated.append(player)
    return dm, seated, session["session_id"]


FIGHTER = {
    "character_name": "Aldric",
    "class": "fighter",
    "alignment": "lawful",
    "strength": 16,
    "dexterity": 12,
    "constitution": 14,
    "intelligence": 10,
    "wisdom": 11,
    "charisma": 9,
}


@contextlib.asynccontextmanager
async def asgi_server(app: Any, port: int) -> AsyncIterator[None]:
    """A real uvicorn server on 127.0.0.1:`port` running the ASGI 3 `app` (a stand-in for someone else's
    server: Stripe's API, a push service) while the block runs."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", interface="asgi3")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def asgi_request(scope: Any, receive: Any) -> tuple[bytes, dict[str, str]]:
    """The body and the headers (lower-case names) of the request an ASGI stand-in is answering."""
    body = b""
    while (message := await receive()).get("more_body"):
        body += message.get("body", b"")
    headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
    return body + message.get("body", b""), headers


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`python -m server serve` as its own process, as people run it (for scale-out and signal tests)."""

    def __init__(self, env: dict[str, str], log_path: Any) -> None:
        self.env = env
        self.port = free_port()
        self.log_path = log_path
        self.clients: list[Client] = []
        self.process: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> ServerProcess:
        import os
        import subprocess
        import sys
        from pathlib import Path

        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )
        log.close()
        async with httpx.AsyncClient() as probe, asyncio.timeout(30):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {Path(self.log_path).read_text()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(f"{self.url}/api/health")).status_code == 200:
                        return self
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        for client in self.clients:
            await client.aclose()
        self.clients.clear()
        if self.process is None:
            return 0
        import subprocess

        self.process.terminate()
        try:
            code = await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()  # a test already failed on it; leave no process behind
            code = await asyncio.to_thread(self.process.wait, 30)
        self.process = None
        return int(code)


class RedisProcess:
    """A redis-server of the test's own, so that the test can stop and restart it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: Any = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> RedisProcess:
        import subprocess

        import redis.asyncio as redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(10):
                while True:
                    try:
                        await client.ping()
                        return self
                    except Exception:
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


async def until_connections(client: Client, count: int, timeout: float = 30.0) -> None:
    """Wait until the server `client` talks to counts `count` open sockets plus parked polls: the state
    the server reports at GET /api/health, observed from outside as an operator would."""
    async with asyncio.timeout(timeout):
        while True:
            if (await client.get("/api/health")).json()["data"]["connections"] == count:
                return
            await asyncio.sleep(0.05)


def missing_service(service: str, url: str, exc: Exception) -> None:
    """Where a service is absent (a laptop) its tests skip; under CI=true that is a failure."""
    message = f"{service} is not reachable at {url} ({exc}); set TEST_{service.upper()}_URL or start it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


# -- a cast of players around one game session (access-control tests) ---------------------------------


@dataclass
class Cast:
    """Everyone an access-control test needs around one game session."""

    session_id: int
    dm: Client
    player: Client  # an accepted player of the session
    party: Client  # a second accepted player
    other: Client  # a registered player who is not in the session
    moderator: Client  # a moderator who is not in the session
    anonymous: Client

    def by_role(self, role: str) -> Client:
        return {
            "anonymous": self.anonymous,
            "player": self.player,
            "other": self.other,
            "dm": self.dm,
            "moderator": self.moderator,
        }[role]


ROLES = ("anonymous", "player", "other", "dm", "moderator")


async def cast(server: LiveServer) -> Cast:
    dm, (player, party), session_id = await game_table(server, players=2)
    other = await Client(server).register()
    name = f"mod{session_id}x{other.user_id}"
    await accounts.create_user(server.services.db, name, f"{name}@example.com", PASSWORD, is_moderator=True)
    moderator = Client(server)
    assert (await moderator.login(name)).status_code == 200
    return Cast(session_id, dm, player, party, other, moderator, Client(server))


# -- monsters ----------------------------------------------------------------------------------------


async def monster(client: Client, name: str) -> dict:
    response = await client.get("/api/monsters/list.php", search=name)
    matches = [row for row in response.json()["data"]["monsters"] if row["name"] == name]
    assert matches, name
    return matches[0]


async def spawn(dm: Client, session_id: int, name: str = "Goblin", **fields: Any) -> dict[str, Any]:
    template = await monster(dm, name)
    return await dm.ok(
        "/api/monsters/create-instance.php",
        {"monster_id": template["monster_id"], "session_id": session_id, **fields},
    )


# -- forum image uploads -----------------------------------------------------------------------------

UPLOAD = "/api/forum/posts/upload-image.php"
BOUNDARY = "vttBoundary7MA4YWxkTrZu0gW"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def png(extra: int = 0) -> bytes:
    """A real 1x1 PNG, padded with `extra` bytes after IEND (still starts with the PNG signature)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body + b"\x00" * extra


def form(filename: str | None, content: bytes, post_id: str | None = None, field: str = "file") -> bytes:
    parts = []
    if post_id is not None:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="post_id"\r\n\r\n{post_id}\r\n'.encode())
    disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename is not None else "")
    parts.append(
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: image/png\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def upload(client: Client, filename: str | None, content: bytes, **kwargs):
    return await client.post(
        UPLOAD,
        content=form(filename, content, **kwargs),
        headers=dict(MULTIPART),
    )


def map_image(width: int = 400, height: int = 300, kind: str = "PNG", pad: int = 0) -> bytes:
    """A real battle-map image made by Pillow (a plain colour), with `pad` bytes after its end."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 80)).save(buffer, format=kind)
    return buffer.getvalue() + b"\x00" * pad


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` in its header with almost no pixel data: a pixel bomb, or
    (small) an image whose header reads but whose pixels do not."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


async def upload_map(
    client: Client, session_id: int, content: bytes, map_name: str = "Cellar", filename: str = "map.png"
) -> httpx.Response:
    return await client.post(
        "/api/session/maps/upload.php",
        files={"image": (filename, content, "application/octet-stream")},
        data={"session_id": str(session_id), "map_name": map_name},
    )


class WebhookReceiver:
    """A real HTTP server that takes webhooks as a customer's would: it checks each signature with the
    endpoint's secret (once `secret` is set), answers 503 to the first `fail_first` attempts of each event
    id (or whatever `answer` returns), and keeps every request and the de-duplicated event ids."""

    def __init__(self, fail_first: int = 0) -> None:
        import time

        self.fail_first = fail_first
        self.secret: str | None = None
        self.requests: list[dict[str, Any]] = []  # arrival time, headers, body, verified
        self.seen: dict[str, int] = {}  # event id -> attempts received
        self.delivered: dict[str, dict[str, Any]] = {}  # event id -> payload, once, as a de-duplicating store
        self.answer: Any = None  # optional: request dict -> status code
        self._changed = asyncio.Condition()
        self._release = asyncio.Event()
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._clock = time.time

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        import json

        if scope["type"] != "http":
            return
        body, headers = await asgi_request(scope, receive)
        request = {"at": self._clock(), "headers": headers, "body": body, "path": scope["path"]}
        request["verified"] = self.secret is not None and verify_signature(
            self.secret, headers.get("vtt-signature", ""), body
        )
        payload = json.loads(body)
        request["payload"] = payload
        self.requests.append(request)
        event_id = payload["id"]
        self.seen[event_id] = self.seen.get(event_id, 0) + 1
        status = self.answer(request) if self.answer else (503 if self.seen[event_id] <= self.fail_first else 200)
        if status is not None and 200 <= status < 300:
            self.delivered.setdefault(event_id, payload)
        async with self._changed:
            self._changed.notify_all()
        if status is None:  # hold the request until the receiver stops (the sender may die meanwhile)
            await self._release.wait()
            status = 503
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"answer {status}".encode()})

    async def wait_for(self, condition: Any, timeout: float = 30.0) -> None:
        """Wait until condition() holds (checked at each request)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __aenter__(self) -> WebhookReceiver:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(
            self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(20):
            while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        self._server.should_exit = True
        self._server.force_exit = True
        assert self._task is not None
        async with asyncio.timeout(20):
            await self._task


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, exactly as README ("Webhooks: verifying a signature") documents it."""
    import hashlib
    import hmac
    import time

    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = int(parts.get("t", "0"))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))
