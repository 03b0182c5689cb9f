"""Game sessions: creation, invitations, membership, and who may see what in them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast

from typing_extensions import TypedDict

from server import accounts, campaigns, clock, notifications, webhook_events
from server.accounts import User, find_by_username
from server.database import Database, Reads, Transaction
from server.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from server.event_log import EventLog, Viewer
from server.mail import Mailer

Role = Literal["dm", "player"]
SESSION_COLUMNS = (
    "session_id, dm_user_id, session_title, session_description, session_datetime, duration_minutes, "
    "max_players, campaign_id, meet_link, status, created_at"
)


DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MIN_DURATION, MAX_DURATION = 30, 480  # minutes
MAX_PLAYERS = 12
MAX_SESSIONS_PER_DM = 1000  # every game session ever run, ended ones too: twenty years of weekly play


@dataclass(frozen=True)
class NewGameSession:
    session_title: str
    session_datetime: str  # DATETIME_FORMAT, UTC; must be in the future
    duration_minutes: int = 180
    max_players: int = 6
    session_description: str | None = None
    campaign_id: int | None = None
    meet_link: str | None = None


class CreatedGameSession(TypedDict):
    session_id: int
    dm_user_id: int
    session_title: str
    status: str


class Invited(TypedDict):
    session_id: int
    user_id: int
    username: str
    status: str


class Accepted(TypedDict):
    session_id: int
    user_id: int
    status: str


class Removed(TypedDict):
    session_id: int
    user_id: int
    username: str
    status: str
    character_ids: list[int]


class StatusChange(TypedDict):
    session_id: int
    old_status: str
    status: str


@dataclass(frozen=True)
class Membership:
    session_id: int
    dm_user_id: int
    role: Role

    @property
    def viewer_is_dm(self) -> bool:
        return self.role == "dm"


async def membership(db: Reads, session_id: int, user: User) -> Membership | None:
    """The user's role in the game session, None if they are neither its DM nor an accepted player.
    Raises NotFound if the game session does not exist."""
    row = await db.fetch_one(
        "SELECT g.dm_user_id, p.status FROM game_sessions g LEFT JOIN session_players p "
        "ON p.session_id = g.session_id AND p.user_id = :uid WHERE g.session_id = :sid",
        {"sid": session_id, "uid": user.user_id},
    )
    if row is None:
        raise NotFound("Session not found")
    if row["dm_user_id"] == user.user_id:
        return Membership(session_id, row["dm_user_id"], "dm")
    if row["status"] == "accepted":
        return Membership(session_id, row["dm_user_id"], "player")
    return None


async def require_member(db: Reads, session_id: int, user: User) -> Membership:
    member = await membership(db, session_id, user)
    if member is None:
        raise Forbidden("You are not the DM or a player of this session")
    return member


async def require_dm(db: Reads, session_id: int, user: User) -> Membership:
    member = await membership(db, session_id, user)
    if member is None or member.role != "dm":
        raise Forbidden("Only the DM can perform this action")
    return member


async def require_members(db: Database, session_id: int, user_ids: Iterable[int], field: str) -> None:
    """Invalid (on `field`) unless every user is the game session's DM or one of its accepted players."""
    rows = await db.fetch_all(
        "SELECT dm_user_id AS user_id FROM game_sessions WHERE session_id = :sid UNION "
        "SELECT user_id FROM session_players WHERE session_id = :sid AND status = 'accepted'",
        {"sid": session_id},
    )
    strangers = sorted(set(user_ids) - {int(row["user_id"]) for row in rows})
    if strangers:
        raise Invalid({field: f"Not members of this session: {', '.join(map(str, strangers))}"})


def viewer(user: User, member: Membership) -> Viewer:
    return Viewer(user.user_id, member.role == "dm")


async def create(log: EventLog, dm: User, new: NewGameSession) -> CreatedGameSession:
    """A scheduled game session run by `dm`."""
    when = datetime.strptime(new.session_datetime, DATETIME_FORMAT).replace(tzinfo=UTC)
    if when <= datetime.now(UTC):
        raise Invalid({"session_datetime": "Session date and time must be in the future"})
    async with log.change() as change:
        await accounts.hold(change.tx, dm)
        run = await change.tx.fetch_val(
            "SELECT count(*) FROM game_sessions WHERE dm_user_id = :uid", {"uid": dm.user_id}
        )
        if run >= MAX_SESSIONS_PER_DM:
            raise Conflict(f"A DM may have at most {MAX_SESSIONS_PER_DM} game sessions")
        if new.campaign_id is not None:
            await campaigns.require_runnable(change.tx, dm, new.campaign_id)
        session_id = await change.tx.fetch_val(
            "INSERT INTO game_sessions (dm_user_id, session_title, session_description, session_datetime, "
            "duration_minutes, max_players, campaign_id, meet_link, status, created_at) VALUES (:dm, :title, "
            ":description, :datetime, :duration, :max_players, :campaign, :meet, 'scheduled', :now) "
            "RETURNING session_id",
            {
                "dm": dm.user_id,
                "title": new.session_title,
                "description": new.session_description,
                "datetime": new.session_datetime,
                "duration": new.duration_minutes,
                "max_players": new.max_players,
                "campaign": new.campaign_id,
                "meet": new.meet_link,
                "now": clock.now_text(),
            },
        )
    return {
        "session_id": session_id,
        "dm_user_id": dm.user_id,
        "session_title": new.session_title,
        "status": "scheduled",
    }


async def invite_player(
    log: EventLog, dm: User, session_id: int, username: str, mailer: Mailer | None = None
) -> Invited:
    """Invite a user to the game session; they are notified in the app (live on their sockets) and, with
    `mailer`, by mail, each unless they turned that off."""
    await require_dm(log.db, session_id, dm)
    invitee = await find_by_username(log.db, username)
    if invitee is None:
        raise NotFound("User not found")
    if invitee.user_id == dm.user_id:
        raise Invalid({"username": "The DM cannot invite themselves"})
    async with log.change(session_id) as change:
        tx = change.tx
        session = await tx.fetch_one(
            "SELECT max_players FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
        )
        assert session is not None
        current = await tx.fetch_one(
            "SELECT status FROM session_players WHERE session_id = :sid AND user_id = :uid",
            {"sid": session_id, "uid": invitee.user_id},
        )
        if current is not None and current["status"] in ("invited", "accepted"):
            raise Invalid({"username": f"{invitee.username} is already {current['status']}"})
        seats = await tx.fetch_val(
            "SELECT count(*) FROM session_players WHERE session_id = :sid AND status IN ('invited', 'accepted')",
            {"sid": session_id},
        )
        if seats >= session["max_players"]:
            raise Invalid({"username": "This session already has its maximum number of players"})
        await tx.execute(
            "INSERT INTO session_players (session_id, user_id, status, invited_at) VALUES (:sid, :uid, 'invited', "
            ":now) ON CONFLICT (session_id, user_id) DO UPDATE SET status = 'invited', invited_at = :now, "
            "responded_at = NULL",
            {"sid": session_id, "uid": invitee.user_id, "now": clock.now_text()},
        )
        await change.record(
            session_id, "player_invited", {"user_id": invitee.user_id, "username": invitee.username}, audience="dm"
        )
        title = await tx.fetch_val(
            "SELECT session_title FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
        )
        note = await notifications.record(
            tx,
            invitee.user_id,
            "invitation",
            f"{dm.username} invited you to {title}",
            {"session_id": session_id, "session_title": title, "invited_by": dm.username},
        )
        by_mail = mailer is not None and await notifications.wants(tx, invitee.user_id, "invitation", "email")
    if note is not None:
        await log.notified(invitee.user_id, note)
    if mailer is not None and by_mail:
        mailer.send_later(
            invitee.email,
            f"{dm.username} invited you to {title}",
            f"{dm.username} invited you to the game session {title} (#{session_id}).\n"
            "Accept or decline it at the table.\n",
        )
    return {"session_id": session_id, "user_id": invitee.user_id, "username": invitee.username, "status": "invited"}


async def accept_invitation(log: EventLog, player: User, session_id: int) -> Accepted:
    async with log.change(session_id) as change:
        tx = change.tx
        row = await tx.fetch_one(
            "SELECT status FROM session_players WHERE session_id = :sid AND user_id = :uid" + tx.for_update,
            {"sid": session_id, "uid": player.user_id},
        )
        if row is None or row["status"] not in ("invited", "accepted"):
            raise NotFound("Invitation not found")
        if row["status"] == "invited":
            await tx.execute(
                "UPDATE session_players SET status = 'accepted', responded_at = :now "
                "WHERE session_id = :sid AND user_id = :uid",
                {"sid": session_id, "uid": player.user_id, "now": clock.now_text()},
            )
            await change.record(session_id, "player_joined", {"user_id": player.user_id, "username": player.username})
    return {"session_id": session_id, "user_id": player.user_id, "status": "accepted"}


class GameSession(TypedDict):
    session_id: int
    dm_user_id: int
    session_title: str
    session_description: str | None
    session_datetime: str  # YYYY-MM-DD HH:MM:SS
    duration_minutes: int
    max_players: int
    campaign_id: int | None
    meet_link: str | None
    status: Literal["scheduled", "active", "completed"]
    created_at: str


class ListedSession(GameSession):
    role: Role  # yours in it
    invitation_status: Literal["accepted", "invited"] | None  # a player's; null for the DM
    dm_username: str
    player_count: int  # accepted players


async def list_for(db: Database, user: User, limit: int, offset: int) -> tuple[list[ListedSession], int]:
    """The user's game sessions: those they run (role "dm"), play in or are invited to (role "player",
    invitation_status "accepted" or "invited"). Removed and declined players no longer see the session."""
    source = (
        "FROM game_sessions g LEFT JOIN session_players p ON p.session_id = g.session_id AND p.user_id = :uid "
        "WHERE g.dm_user_id = :uid OR p.status IN ('invited', 'accepted')"
    )
    values = {"uid": user.user_id}
    total = await db.fetch_val(f"SELECT count(*) {source}", values)
    columns = ", ".join(f"g.{name.strip()}" for name in SESSION_COLUMNS.split(","))
    rows = await db.fetch_all(
        f"SELECT {columns}, p.status AS invitation_status, "
        "(SELECT username FROM users u WHERE u.user_id = g.dm_user_id) AS dm_username, "
        "(SELECT count(*) FROM session_players a WHERE a.session_id = g.session_id AND a.status = 'accepted') "
        f"AS player_count {source} ORDER BY g.session_datetime, g.session_id LIMIT :limit OFFSET :offset",
        {**values, "limit": limit, "offset": offset},
    )
    sessions = []
    for row in rows:
        is_dm = row["dm_user_id"] == user.user_id
        listed = {
            **row,
            "role": "dm" if is_dm else "player",
            "invitation_status": None if is_dm else row["invitation_status"],
        }
        sessions.append(cast(ListedSession, listed))
    return sessions, int(total)


async def remove_player(log: EventLog, dm: User, session_id: int, user_id: int) -> Removed:
    """The player (or invitee) leaves the game session: status "removed", their characters leave the
    session and its initiative tracker, and the `player_removed` event makes the hub close their sockets."""
    await require_dm(log.db, session_id, dm)
    if user_id == dm.user_id:
        raise Invalid({"user_id": "The DM cannot remove themselves"})
    async with log.change(session_id) as change:
        tx = change.tx
        row = await tx.fetch_one(
            "SELECT p.status, u.username FROM session_players p JOIN users u ON u.user_id = p.user_id "
            "WHERE p.session_id = :sid AND p.user_id = :uid" + tx.for_update,
            {"sid": session_id, "uid": user_id},
        )
        if row is None or row["status"] not in ("invited", "accepted"):
            raise NotFound("Player not found in this session")
        character_rows = await tx.fetch_all(
            "SELECT character_id FROM characters WHERE session_id = :sid AND user_id = :uid "
            "ORDER BY character_id" + tx.for_update,
            {"sid": session_id, "uid": user_id},
        )
        character_ids = [r["character_id"] for r in character_rows]
        if character_ids:
            names = ", ".join(f":c{i}" for i in range(len(character_ids)))
            ids = {f"c{i}": cid for i, cid in enumerate(character_ids)}
            await tx.execute(f"DELETE FROM initiative_entries WHERE character_id IN ({names})", ids)
            await tx.execute(
                f"UPDATE characters SET session_id = NULL, updated_at = :now WHERE character_id IN ({names})",
                {**ids, "now": clock.now_text()},
            )
        await tx.execute(
            "UPDATE session_players SET status = 'removed', responded_at = :now "
            "WHERE session_id = :sid AND user_id = :uid",
            {"sid": session_id, "uid": user_id, "now": clock.now_text()},
        )
        await change.record(
            session_id,
            "player_removed",
            {"user_id": user_id, "username": row["username"], "character_ids": character_ids},
        )
    return {
        "session_id": session_id,
        "user_id": user_id,
        "username": row["username"],
        "status": "removed",
        "character_ids": character_ids,
    }


# Status changes the DM may make: from -> to.
_TRANSITIONS = {"start": ("scheduled", "active"), "end": ("active", "completed")}


async def change_status(log: EventLog, dm: User, session_id: int, action: Literal["start", "end"]) -> StatusChange:
    """Start a scheduled game session or end an active one; any other transition is refused."""
    await require_dm(log.db, session_id, dm)
    before, after = _TRANSITIONS[action]
    async with log.change(session_id) as change:
        tx = change.tx
        current = await tx.fetch_val("SELECT status FROM game_sessions WHERE session_id = :sid", {"sid": session_id})
        if current != before:
            raise BadRequest(
                f"Only a {before} session can be {'started' if action == 'start' else 'ended'}; this one is {current}"
            )
        await tx.execute(
            "UPDATE game_sessions SET status = :status WHERE session_id = :sid", {"status": after, "sid": session_id}
        )
        await change.record(
            session_id, "session_status_changed", {"session_id": session_id, "old_status": current, "status": after}
        )
        await record_status_webhook(tx, session_id, current)
    return {"session_id": session_id, "old_status": current, "status": after}


async def record_status_webhook(tx: Transaction, session_id: int, old_status: str) -> None:
    """The webhook event (session.started or session.ended) of the status change just written in `tx`."""
    row = await tx.fetch_one(
        "SELECT session_id, dm_user_id, campaign_id, session_title, status FROM game_sessions WHERE session_id = :sid",
        {"sid": session_id},
    )
    assert row is not None
    session = {
        "id": session_id,
        "object": "game_session",
        "title": row["session_title"],
        "campaign_id": row["campaign_id"],
        "status": row["status"],
        "old_status": old_status,
    }
    event_type: webhook_events.EventType = "session.started" if row["status"] == "active" else "session.ended"
    await webhook_events.record(tx, event_type, row["dm_user_id"], {"session": session})
