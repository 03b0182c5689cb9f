"""Chat at the table: messages to the whole game session or whispers, deleted by their author or the DM.

A message's id is the event_id of its `chat_message` event. A whisper (`to`) is an event for exactly its
sender and its recipients: the DM does not see a whisper unless named among its recipients. Deleting a
message overwrites its text in the log (so no replay or history shows it again) and records
`chat_message_deleted` for the same audience. Text is stored and sent as given: clients show it as text.
"""

from __future__ import annotations

from typing import Any, cast

from typing_extensions import TypedDict

from server import game_sessions
from server.accounts import User
from server.errors import Forbidden, Invalid, NotFound
from server.event_log import Event, EventLog
from server.send_rate import SendRate


class ChatMessage(TypedDict):
    message_id: int  # its event_id
    sender_user_id: int
    sender_name: str
    character_id: int | None  # spoken as this character
    character_name: str | None
    text: str
    to: list[int]  # a whisper's recipients (the sender and they alone see it); empty for the table
    created_at: str


class MessageDeleted(TypedDict):
    message_id: int
    deleted: bool


class MessagePage(TypedDict):
    messages: list[ChatMessage]  # oldest first
    next_before_id: int | None  # the page before this one; null at the start of the game session


MAX_TEXT = 2000
HISTORY_PAGE = 50


async def _speaker(log: EventLog, user: User, member: game_sessions.Membership, character_id: int) -> str:
    """The name of the character the user speaks as: their own in this game session, or (the DM) any in it."""
    row = await log.db.fetch_one(
        "SELECT character_name, user_id, session_id FROM characters WHERE character_id = :cid", {"cid": character_id}
    )
    if row is None or row["session_id"] != member.session_id:
        raise Invalid({"as_character_id": "No such character in this session"})
    if row["user_id"] != user.user_id and member.role != "dm":
        raise Forbidden("You can only speak as your own character")
    return str(row["character_name"])


async def send(
    log: EventLog,
    rate: SendRate,
    user: User,
    session_id: int,
    text: str,
    to: list[int] | None = None,
    as_character_id: int | None = None,
) -> ChatMessage:
    """Post a message (a whisper when `to` names members); RateLimited past the user's send rate."""
    member = await game_sessions.require_member(log.db, session_id, user)
    audience: dict[str, Any] = {}
    if to:
        await game_sessions.require_members(log.db, session_id, to, "to")
        audience = {"audience": "users", "user_ids": {user.user_id, *to}}
    character_name = None if as_character_id is None else await _speaker(log, user, member, as_character_id)
    await rate.spend(f"chat:{user.user_id}")
    data = {
        "sender_user_id": user.user_id,
        "sender_name": user.username,
        "character_id": as_character_id,
        "character_name": character_name,
        "text": text,
        "to": sorted(set(to or [])),
    }
    async with log.change(session_id) as change:
        event = await change.record(session_id, "chat_message", data, **audience)
    return _message(event, data)


def _message(event: Event, data: dict[str, Any]) -> ChatMessage:
    return cast(ChatMessage, {"message_id": event.event_id, **data, "created_at": event.created_at})


async def delete(log: EventLog, user: User, session_id: int, message_id: int) -> MessageDeleted:
    """Delete a message the user can see, if they wrote it or are the DM."""
    member = await game_sessions.require_member(log.db, session_id, user)
    viewer = game_sessions.viewer(user, member)
    async with log.change(session_id) as change:
        event = await change.find(message_id)
        if event is None or event.event_type != "chat_message" or not event.visible_to(viewer):
            raise NotFound("Message not found")
        if event.event_data.get("deleted"):
            raise NotFound("Message already deleted")
        sender = event.event_data["sender_user_id"]
        if sender != user.user_id and member.role != "dm":
            raise Forbidden("Only its author or the DM can delete a message")
        await change.replace_data(message_id, {"sender_user_id": sender, "deleted": True})
        audience: dict[str, Any] = {"audience": event.audience}
        if event.audience == "users":
            audience["user_ids"] = event.audience_user_ids
        await change.record(
            session_id, "chat_message_deleted", {"message_id": message_id, "deleted_by": user.user_id}, **audience
        )
    return {"message_id": message_id, "deleted": True}


async def history(
    log: EventLog, user: User, session_id: int, before_id: int | None, limit: int = HISTORY_PAGE
) -> MessagePage:
    """One page of the messages `user` may see, oldest first, deleted ones left out; `next_before_id`
    asks for the page before it (None at the start of the session)."""
    member = await game_sessions.require_member(log.db, session_id, user)
    viewer = game_sessions.viewer(user, member)
    events, before = await log.history(session_id, viewer, ("chat_message",), before=before_id, limit=limit)
    messages = [_message(e, e.event_data) for e in events if e.in_audience(viewer) and not e.event_data.get("deleted")]
    return {"messages": messages, "next_before_id": before}
