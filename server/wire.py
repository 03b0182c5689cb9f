"""The wire format, in one place: what an event looks like to clients, the messages between processes,
the WebSocket frames and the close codes that are not errors (those are in server/errors.py).

An event as both transports send it (the envelope):
  {"event_id", "event_type", "event_data", "created_at"}
  (`event_data` is the form of the event the viewer gets: see `event_log.Event`.)

WebSocket frames (JSON text), server to client:
  {"type": "hello", "session_id", "role": "dm"|"player", "user_id", "head_event_id", "online_users", "audio"}
  {"type": "event", <the envelope>}
  {"type": "presence", "online_users": [{"user_id", "username"}], "online_count"}
  {"type": "pong"}
  {"type": "error", "error": <code>, "message": <text>}
  {"type": "ephemeral", "event_type", "event_data"}   a drag or a ping: no event_id, never stored
Client to server: {"type": "ping"}, and the map frames of server/channels/drags.py (drag, drag_end,
map_ping).

Messages between processes are the dataclasses below. In one process (BROADCAST_URL memory://) they
travel as they are; only a broadcast between processes (Redis) encodes them, with `encode`/`decode`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict

from server import codec, event_log

CONTROL_CHANNEL = "vtt.control"

# Close codes that end a socket without an error (RFC 6455 and our 4xxx application codes).
CLOSE_RESTARTING = 1012
CLOSE_FELL_BEHIND = 4408
CLOSE_LOGGED_OUT = 4409
CLOSE_REMOVED = 4410


@dataclass(frozen=True)
class Events:
    """Events just committed in one game session, in event_id order."""

    events: tuple[event_log.Event, ...]
    # Wall-clock publish time, for the delivery-lag metric (the processes of one host share a clock).
    sent_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class PresenceAnnounce:
    """Who is online through `process` in the game session of the channel it is published on."""

    process: str
    users: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class PresenceQuery:
    """A process that just subscribed to a game session asks the others to announce at once."""

    process: str


@dataclass(frozen=True)
class Logout:
    """The user logged out: every process closes their sockets."""

    user_id: int


@dataclass(slots=True)  # not frozen: one is made per drag position, and a frozen one costs 4x as much
class Ephemeral:
    """A drag or a ping (server/channels/drags.py): never stored, no event_id. `key` coalesces: a newer
    one with the same key replaces one not yet sent. `origin` is the sending connection (not echoed)."""

    session_id: int
    origin: str
    key: str
    event_type: str
    event_data: dict[str, Any]


@dataclass(frozen=True)
class Notify:
    """A notification for the user (server/notifications.py): every process offers it to their sockets."""

    user_id: int
    notification: dict[str, Any]


Message = Events | PresenceAnnounce | PresenceQuery | Logout | Ephemeral | Notify


class EventEnvelope(TypedDict):
    event_id: int
    event_type: str
    event_data: dict[str, Any]  # in the form this viewer gets (README: events and their data)
    created_at: str


class OnlineUser(TypedDict):
    user_id: int
    username: str


def session_channel(session_id: int) -> str:
    return f"vtt.session.{session_id}"


def session_of_channel(channel: str) -> int:
    return int(channel.rsplit(".", 1)[1])


def envelope(event: event_log.Event, form: event_log.Form) -> EventEnvelope:
    """The event, in one of its forms (see `event_log.Event`), as both transports send it."""
    data = {"full": event.event_data, "player": event.player_data, "redacted": event.redacted_data}[form]
    assert data is not None  # a form is only ever chosen where it is set (Event.form_for)
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "event_data": data,
        "created_at": event.created_at,
    }


def envelope_for(event: event_log.Event, viewer: event_log.Viewer) -> EventEnvelope | None:
    """The envelope `viewer` gets of this event; None when they get nothing."""
    form = event.form_for(viewer)
    return None if form is None else envelope(event, form)


def _event_fields(event: event_log.Event) -> dict[str, Any]:
    return {
        "session_id": event.session_id,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "event_data": event.event_data,
        "player_data": event.player_data,
        "audience": event.audience,
        "audience_user_id": event.audience_user_id,
        "audience_user_ids": list(event.audience_user_ids),
        "redacted_data": event.redacted_data,
        "created_at": event.created_at,
    }


def encode(message: Message) -> str:
    """A message as JSON text, for a broadcast between processes."""
    if isinstance(message, Events):
        events = [_event_fields(e) for e in message.events]
        return codec.dumps_text({"kind": "events", "sent_at": message.sent_at, "events": events})
    if isinstance(message, PresenceAnnounce):
        return codec.dumps_text({"kind": "presence", "process": message.process, "users": message.users})
    if isinstance(message, PresenceQuery):
        return codec.dumps_text({"kind": "presence_query", "process": message.process})
    if isinstance(message, Ephemeral):
        return codec.dumps_text({"kind": "ephemeral", **dataclasses.asdict(message)})
    if isinstance(message, Notify):
        return codec.dumps_text({"kind": "notify", "user_id": message.user_id, "notification": message.notification})
    return codec.dumps_text({"kind": "logout", "user_id": message.user_id})


def decode(text: str) -> Message:
    """The message `encode` made; ValueError (or KeyError, TypeError) for anything else."""
    value = codec.loads(text)
    if not isinstance(value, dict):
        raise ValueError("broadcast message is not an object")
    kind = value.get("kind")
    if kind == "events":
        return Events(
            tuple(
                event_log.Event(**{**item, "audience_user_ids": tuple(item.get("audience_user_ids") or ())})
                for item in value["events"]
            ),
            float(value.get("sent_at") or time.time()),
        )
    if kind == "presence":
        return PresenceAnnounce(str(value["process"]), tuple((int(uid), str(name)) for uid, name in value["users"]))
    if kind == "presence_query":
        return PresenceQuery(str(value["process"]))
    if kind == "logout":
        return Logout(int(value["user_id"]))
    if kind == "ephemeral":
        return Ephemeral(
            int(value["session_id"]),
            str(value["origin"]),
            str(value["key"]),
            str(value["event_type"]),
            dict(value["event_data"]),
        )
    if kind == "notify":
        return Notify(int(value["user_id"]), dict(value["notification"]))
    raise ValueError(f"unknown broadcast message kind {kind!r}")


def frame(kind: str, **fields: Any) -> str:
    return codec.dumps_text({"type": kind, **fields})


def ephemeral_frame(event_type: str, event_data: dict[str, Any]) -> bytes:
    """The frame of an ephemeral event (a drag, a ping), UTF-8 encoded: what a WebSocket text frame carries."""
    return codec.dumps({"type": "ephemeral", "event_type": event_type, "event_data": event_data})


def event_frame(event_envelope: EventEnvelope) -> str:
    return codec.dumps_text({"type": "event", **event_envelope})


def online_users(users: Iterable[tuple[int, str]]) -> list[OnlineUser]:
    return [{"user_id": user_id, "username": username} for user_id, username in sorted(users)]
