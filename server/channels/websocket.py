"""WebSocket transport: GET /api/realtime/ws?session_id=N&last_event_id=M.

I/O and session plumbing only; ordering, audiences and fan-out are the hub's. The protocol (frames,
close codes, resume) is in README.md and server/wire.py; refusals follow the table in server/errors.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from server import codec, credentials, game_sessions, login_sessions, wire
from server.audio import current as current_audio
from server.channels import hub as hubs
from server.channels.drags import KINDS, LATER, Later
from server.channels.hub import Hub, Subscriber, View
from server.channels.raw_send import CLOSE_GRACE, RawSendProtocol, sink_of
from server.database import MAX_INTEGER
from server.errors import DomainError, Invalid
from server.errors import kind as error_kind
from server.proxy import client_address, is_https
from server.services import Services, services
from server.settings import Settings

log = logging.getLogger("server.websocket")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers always send Origin: it must be this server's own origin (scheme, host and port, by the
    Host header and the scheme we were reached by) or one of ALLOWED_ORIGINS, so another site cannot ride
    a player's cookie. Clients that are not browsers send none and authenticate by cookie alone."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in settings.allowed_origins:
        return True
    host = websocket.headers.get("host", "")
    if not host:
        return False
    return _origin_key(origin) == _origin_key(f"{'https' if is_https(websocket, settings) else 'http'}://{host}")


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if it is not a web origin."""
    try:
        parts = urlsplit(origin.lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def _cursor(value: str | None, default: int | None) -> int | None:
    """A whole number from 0 to MAX_INTEGER, `default` when absent, None when it is anything else."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 <= number <= MAX_INTEGER else None


def _where_to_start(websocket: WebSocket) -> tuple[int, int]:
    session_id = _cursor(websocket.query_params.get("session_id"), None)
    last_event_id = _cursor(websocket.query_params.get("last_event_id"), 0)
    if not session_id or last_event_id is None:
        raise Invalid(
            {"session_id": "Session ID must be a positive whole number"},
            "session_id must be a positive integer and last_event_id a non-negative one",
        )
    return session_id, last_event_id


async def realtime_socket(websocket: WebSocket) -> None:
    """A client that goes away at any point (before the hello, during the replay) is normal: it ends
    the connection quietly, without a traceback in the log."""
    found = services(websocket)
    if not origin_allowed(websocket, found.settings):
        # A close before accept is uvicorn's 403 without an error log line (a denial response with a
        # body, like the app's error handler would send, logs "returned without completing handshake"
        # at ERROR for every attempt: anyone could flood the log).
        await websocket.close()
        return
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.accept()
        await _admit(websocket, found)


async def _admit(websocket: WebSocket, found: Services) -> None:
    hub = hubs.of(found)
    try:
        await hub.connection_rate.admit(client_address(websocket, found.settings))
        session_id, last_event_id = _where_to_start(websocket)
        # Browsers authenticate with the cookie; other clients may send Authorization: Bearer (a session
        # token or an API key), which a browser cannot be made to send to another site.
        login = await credentials.authentication(
            found.db,
            found.secret_key,
            found.settings.plans,
            authorization=websocket.headers.get("authorization"),
            cookie=websocket.cookies.get(login_sessions.COOKIE_NAME),
        )
        member = await game_sessions.require_member(found.db, session_id, login.user)
        await found.event_log.require_retained(session_id, last_event_id)
        viewer = game_sessions.viewer(login.user, member)
        member_name = (login.user.user_id, login.user.username)
        subscriber = await hub.join(session_id, viewer, member_name, "socket", login.login_hash)
    except DomainError as exc:
        kind = error_kind(exc)
        await websocket.send_text(wire.frame("error", error=kind.code, message=exc.message))
        await websocket.close(kind.close_code, exc.message[:120])
        return
    detached = False
    try:
        await _replay(websocket, hub, subscriber, member.role, last_event_id)
        sink = sink_of(websocket.scope)
        if sink is None:
            await _serve_asgi(websocket, hub, subscriber)
        else:
            detached = True  # from here the socket leaves the hub when it ends (DetachedSocket.ended)
            DetachedSocket(hub, subscriber, sink).open()
    finally:
        if not detached:
            await hub.leave(subscriber)


async def _replay(websocket: WebSocket, hub: Hub, subscriber: Subscriber, role: str, last_event_id: int) -> None:
    session_id = subscriber.session_id
    head = await hub.event_log.head(session_id)
    await websocket.send_text(
        wire.frame(
            "hello",
            session_id=session_id,
            user_id=subscriber.viewer.user_id,
            role=role,
            head_event_id=head,
            online_users=hub.online(session_id),
            audio=await current_audio(hub.event_log.db, session_id),
        )
    )
    # A cursor past the head (say, after the database was restored) would hide every new event.
    cursor = min(last_event_id, head)
    while cursor < head:
        events = await hub.event_log.since(session_id, cursor, viewer=subscriber.viewer, until=head)
        for event in events:
            envelope = wire.envelope_for(event, subscriber.viewer)
            if envelope is not None:
                await websocket.send_text(wire.event_frame(envelope))
        if len(events) == 0:
            break
        cursor = events[-1].event_id
    subscriber.sent_through = head


class DetachedSocket:
    """A socket past its hello and replay, detached from its ASGI call (server/channels/raw_send.py): the
    app's task, its middleware coroutines and the handshake's objects are gone, and while it is idle it
    has no task at all. The hub writes frames to it directly (and closes it through its sink); a frame
    from the client is answered at once, or by a task while it needs an await (a token not yet checked)."""

    __slots__ = ("hub", "inbox", "sink", "subscriber")

    def __init__(self, hub: Hub, subscriber: Subscriber, sink: RawSendProtocol) -> None:
        self.hub = hub
        self.subscriber = subscriber
        self.sink = sink
        self.inbox: list[str | None] | None = None  # frames that wait while a task answers one; None: no task

    def open(self) -> None:
        self.sink.detach(self)
        self.subscriber.sink = self.sink
        self.subscriber.flush(self.sink)  # what the hub queued during the replay
        if self.subscriber.closed is not None:
            self.sink.close_now(*self.subscriber.closed)

    def received(self, text: str | None) -> bool:
        if self.inbox is not None:
            self.inbox.append(text)
            return False
        answer = _answer_now(self.hub, self.subscriber, text)
        if answer is LATER:
            self.inbox = []
            self.sink.spawn(self._answer_later(text))
            return False
        if answer is not None:
            self.subscriber.offer(answer)
        return True

    async def _answer_later(self, text: str | None) -> None:
        """Answer `text`, then the frames that came in behind it, in order."""
        try:
            while True:
                answer = await _answer(self.hub, self.subscriber, text)
                if answer is not None:
                    self.subscriber.offer(answer)
                if not self.inbox:
                    return
                text = self.inbox.pop(0)
        except Exception:
            log.exception("answering a client frame failed")
            self.sink.close_now(1011, "server error")
        finally:
            self.inbox = None
            self.sink.resume_reading()

    def writable(self) -> None:
        self.subscriber.flush(self.sink)
        if self.subscriber.closed is not None:
            self.sink.close_now(*self.subscriber.closed)

    def ended(self) -> None:
        self.sink.spawn(self.hub.leave(self.subscriber))


async def _serve_asgi(websocket: WebSocket, hub: Hub, subscriber: Subscriber) -> None:
    """Through ASGI, for a server other than ours (see server/serve.py): a sending task and a reading one
    for the connection's whole life."""
    sender = asyncio.create_task(_send_live(websocket, subscriber))
    try:
        await _receive(websocket, hub, subscriber, sender)
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


async def _send_live(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        await subscriber.wake.wait()
        while (item := subscriber.pop()) is not None:
            if isinstance(item, View):
                if item.event_id <= subscriber.sent_through:
                    continue  # already sent by the replay
                subscriber.sent_through = item.event_id
                await websocket.send_text(item.frame)
            else:
                await websocket.send_text(item)
        for frame in subscriber.take_ephemeral():
            await websocket.send_text(frame)
        if subscriber.closed is not None:
            code, reason = subscriber.closed
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code, reason), CLOSE_GRACE)
            return


async def _receive(websocket: WebSocket, hub: Hub, subscriber: Subscriber, sender: asyncio.Task[None]) -> None:
    """Read the client's frames until it leaves, the sender ends, or the hub closes the connection: one
    wait for the three, not one per frame (a dragging client sends 20 frames a second)."""
    subscriber.ended = ended_event = asyncio.Event()
    if subscriber.closed is not None:
        ended_event.set()
    reading = asyncio.ensure_future(_read(websocket, hub, subscriber))
    ended = asyncio.ensure_future(ended_event.wait())
    try:
        done, _ = await asyncio.wait({reading, sender, ended}, return_when=asyncio.FIRST_COMPLETED)
        if ended in done and reading not in done:
            # Closed by the hub: the sender sends the close frame, unless it is stuck on a client that
            # stopped reading; then the connection is dropped without it.
            await asyncio.wait({sender}, timeout=CLOSE_GRACE)
    finally:
        reading.cancel()
        ended.cancel()
        with contextlib.suppress(BaseException):
            await reading


async def _read(websocket: WebSocket, hub: Hub, subscriber: Subscriber) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while (message := await websocket.receive())["type"] != "websocket.disconnect":
            answer = await _answer(hub, subscriber, message.get("text"))
            if answer is not None:
                subscriber.offer(answer)


def _answer_now(hub: Hub, subscriber: Subscriber, text: str | None) -> str | Later | None:
    """The answer to a client frame (None for none), or LATER when it needs an await (`_answer`)."""
    if text is None:
        return wire.frame("error", error="bad_frame", message="Binary frames are not supported")
    try:
        message = codec.loads(text)
    except codec.DecodeError:
        return wire.frame("error", error="bad_frame", message="Frames must be JSON")
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "ping":
        return wire.frame("pong")
    if kind in KINDS:
        return hub.drags.receive_now(subscriber, message)
    return wire.frame("error", error="unknown_frame", message="Unknown frame; accepted: ping, drag, drag_end, map_ping")


async def _answer(hub: Hub, subscriber: Subscriber, text: str | None) -> str | None:
    answer = _answer_now(hub, subscriber, text)
    if answer is LATER:
        assert text is not None
        return await hub.drags.receive(subscriber, codec.loads(text))
    return answer
