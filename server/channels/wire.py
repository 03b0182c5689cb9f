"""The wire format, in one place: broadcast messages between processes, WebSocket frames, close codes.

WebSocket frames (JSON text), server to client:
  {"type": "hello", "session_id", "role": "dm"|"player", "user_id", "head_event_id", "online_users", "audio"}
  {"type": "event", "event_id", "event_type", "event_data", "created_at"}
  {"type": "presence", "online_users": [{"user_id", "username"}], "online_count"}
  {"type": "pong"}
  {"type": "error", "error": <code>, "message": <text>}
Client to server: {"type": "ping"}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from server import codec

if TYPE_CHECKING:
    from server.channels.event_log import Event

CONTROL_CHANNEL = "vtt.control"

# Close codes (RFC 6455 ones plus our 4xxx application codes).
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_RESTARTING = 1012
CLOSE_TRY_LATER = 1013
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_FELL_BEHIND = 4408
CLOSE_LOGGED_OUT = 4409
CLOSE_REMOVED = 4410


def session_channel(session_id: int) -> str:
    return f"vtt.session.{session_id}"


def events_message(events: Iterable[Event]) -> str:
    return codec.dumps_text({"kind": "events", "events": [event.to_wire() for event in events]})


def presence_message(process: str, users: list[tuple[int, str]]) -> str:
    return codec.dumps_text({"kind": "presence", "process": process, "users": users})


def presence_query(process: str) -> str:
    return codec.dumps_text({"kind": "presence_query", "process": process})


def logout_message(user_id: int) -> str:
    return codec.dumps_text({"kind": "logout", "user_id": user_id})


def removal_message(session_id: int, user_id: int) -> str:
    return codec.dumps_text({"kind": "removed", "session_id": session_id, "user_id": user_id})


def decode(message: str) -> dict[str, Any]:
    value = codec.loads(message)
    if not isinstance(value, dict):
        raise ValueError("broadcast message is not an object")
    return value


def frame(kind: str, **fields: Any) -> str:
    return codec.dumps_text({"type": kind, **fields})


def event_frame(envelope: dict[str, Any]) -> str:
    return codec.dumps_text({"type": "event", **envelope})


def online_users(users: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"user_id": user_id, "username": username} for user_id, username in sorted(users)]
