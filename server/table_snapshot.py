"""Everything a joining or reloading member may see of a game session, in one answer, with the event_id
it is current to: the players, the party, the monsters, the initiative tracker, the music and the active battle map.

A client then follows the live feed from `head_event_id` instead of replaying the log from 0. The head
is read before the rest, so the snapshot is at least as new as the head says; events after the head
carry absolute values (hit points, the whole tracker, a token's position), so applying one that the
snapshot already includes changes nothing.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from server import audio, characters, initiative, map_scene, monster_instances
from server.accounts import User
from server.audio import AudioState
from server.characters import Character
from server.event_log import EventLog
from server.game_sessions import require_member
from server.initiative import Tracker
from server.map_scene import MapScene
from server.monster_instances import MonsterInstance


class Seat(TypedDict):
    user_id: int
    username: str
    status: Literal["accepted", "invited"]  # players see the accepted ones only


class Snapshot(TypedDict):
    session_id: int
    role: Literal["dm", "player"]
    head_event_id: int  # follow the live feed from here
    players: list[Seat]
    characters: list[Character]  # players get the others' in the party view, their own in full
    monster_instances: list[MonsterInstance]  # players get the redacted view
    initiative: Tracker
    audio: AudioState
    map: MapScene | None  # the active battle map, its fog as `revealed_runs`; null when none is active


async def snapshot(log: EventLog, user: User, session_id: int) -> Snapshot:
    """The DM gets full character sheets and monsters and the open invitations; a player the party view
    of the others' characters (their own in full), the monsters' redacted view, and the map as the fog
    allows."""
    member = await require_member(log.db, session_id, user)
    head = await log.head(session_id)
    rows = await log.db.fetch_all(
        f"SELECT {characters.CHARACTER_COLUMNS} FROM characters WHERE session_id = :sid ORDER BY character_id",
        {"sid": session_id},
    )
    party = [
        characters.detail(row) if member.viewer_is_dm or row["user_id"] == user.user_id else characters.summary(row)
        for row in rows
    ]
    monsters, _, _ = await monster_instances.for_session(log.db, user, session_id)
    # The DM also sees the invitations still open (with Withdraw on the DM screen); players the table.
    seats = "('accepted', 'invited')" if member.viewer_is_dm else "('accepted')"
    players = await log.db.fetch_all(
        "SELECT p.user_id, u.username, p.status FROM session_players p JOIN users u ON u.user_id = p.user_id "
        f"WHERE p.session_id = :sid AND p.status IN {seats} ORDER BY p.user_id",
        {"sid": session_id},
    )
    active = await log.db.fetch_val(
        "SELECT map_id FROM battle_maps WHERE session_id = :sid AND is_active = 1", {"sid": session_id}
    )
    return {
        "session_id": session_id,
        "role": member.role,
        "head_event_id": head,
        "players": [Seat(user_id=row["user_id"], username=row["username"], status=row["status"]) for row in players],
        "characters": party,
        "monster_instances": monsters,
        "initiative": await initiative.tracker(log.db, session_id),
        "audio": await audio.current(log.db, session_id),
        "map": None if active is None else await map_scene.scene(log.db, user, active, fog_runs=True),
    }
