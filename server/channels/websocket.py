"""WebSocket transport: GET /api/realtime/ws?session_id=N&last_event_id=M.

I/O and session plumbing only; ordering, audiences and fan-out are the hub's. The protocol (frames,
close codes, resume) is in README.md and server/wire.py; refusals follow the table in server/errors.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from server import codec, credentials, game_sessions, login_sessions, wire
from server.audio import current as current_audio
from server.channels.drags import KINDS, LATER, Later
from server.channels.hub import Hub, Subscriber, View
from server.channels.raw_send import RawSendProtocol, sink_of
from server.database import MAX_INTEGER
from server.errors import DomainError, Invalid
from server.errors import kind as error_kind
from server.proxy import client_address, is_https
from server.services import Services, services
from server.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}
CLOSE_GRACE = 2.0  # seconds a closing socket has to take its close frame


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
    try:
        await found.hub.connection_rate.admit(client_address(websocket, found.settings))
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
        subscriber = await found.hub.join(session_id, viewer, member_name, "socket", login.login_hash)
    except DomainError as exc:
        kind = error_kind(exc)
        await websocket.send_text(wire.frame("error", error=kind.code, message=exc.message))
        await websocket.close(kind.close_code, exc.message[:120])
        return
    try:
        await _serve(websocket, found.hub, subscriber, member.role, last_event_id)
    finally:
        await found.hub.leave(subscriber)


async def _serve(websocket: WebSocket, hub: Hub, subscriber: Subscriber, role: str, last_event_id: int) -> None:
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
    sink = sink_of(websocket.scope)
    if sink is None:
        sender = asyncio.create_task(_send_live(websocket, subscriber))
    else:
        sender = asyncio.create_task(_send_raw(subscriber, sink))
    try:
        await _receive(websocket, hub, subscriber, sender, sink)
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


async def _send_raw(subscriber: Subscriber, sink: RawSendProtocol) -> None:
    """Frames go straight to the transport (server/channels/raw_send.py): from the hub's fan-out while
    nothing is queued, and from here what queued while the transport was paused."""
    subscriber.sink = sink
    while True:
        subscriber.flush(sink)
        if subscriber.closed is not None:
            sink.close_now(*subscriber.closed, grace=CLOSE_GRACE)
            return
        if not sink.is_open():
            # Closing (the client's close, or the server shutting down): nothing more can be written.
            # Waiting on `wake` here would spin without yielding while frames stay queued.
            return
        if sink.can_write():
            await subscriber.wake.wait()
        else:
            await sink.until_writable()


async def _send_live(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Through ASGI, for a server other than ours (see server/serve.py)."""
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


async def _receive(
    websocket: WebSocket, hub: Hub, subscriber: Subscriber, sender: asyncio.Task[None], sink: RawSendProtocol | None
) -> None:
    """Read the client's frames until it leaves, the sender ends, or the hub closes the connection: one
    wait for the three, not one per frame (a dragging client sends 20 frames a second)."""
    reading = asyncio.ensure_future(_read(websocket, hub, subscriber, sink))
    ended = asyncio.ensure_future(subscriber.ended.wait())
    try:
        done, _ = await asyncio.wait({reading, sender, ended}, return_when=asyncio.FIRST_COMPLETED)
        if ended in done and reading not in done:
            # Closed by the hub: the sender sends the close frame, unless it is stuck on a client that
            # stopped reading; then the connection is dropped without it.
            if sink is not None and subscriber.closed is not None:
                subscriber.flush(sink)
                sink.close_now(*subscriber.closed, grace=CLOSE_GRACE)
            await asyncio.wait({sender}, timeout=CLOSE_GRACE)
    finally:
        reading.cancel()
        ended.cancel()
        with contextlib.suppress(BaseException):
            await reading


async def _read(websocket: WebSocket, hub: Hub, subscriber: Subscriber, sink: RawSendProtocol | None) -> None:
    answering = False  # a frame's answer is being awaited: later frames wait in the ASGI queue behind it

    def answer_now(text: str) -> bool:
        answer = LATER if answering else _answer_now(hub, subscriber, text)
        if answer is LATER:
            return False
        if answer is not None:
            subscriber.offer(answer)
        return True

    if sink is not None:
        sink.on_text = answer_now
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while (message := await websocket.receive())["type"] != "websocket.disconnect":
                answering = True
                answer = await _answer(hub, subscriber, message.get("text"))
                answering = False
                if answer is not None:
                    subscriber.offer(answer)
    finally:
        if sink is not None:
            sink.on_text = None


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
