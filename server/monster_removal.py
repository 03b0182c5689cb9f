"""Taking a monster instance off the table for good (fled, slain and cleared away, spawned by mistake).

One change, the DM's: its tokens leave every map of the game session (`map_token_removed`, which players
get only for the tokens they were shown), it leaves the initiative tracker (`initiative_updated`, the
turn passing on as when the DM removes it there), and the instance is deleted (`monster_removed`: the DM
gets the token and initiative ids too, players what the monster list shows them).
"""

from __future__ import annotations

from typing_extensions import TypedDict

from server import initiative, map_tokens
from server.accounts import User
from server.errors import NotFound
from server.event_log import EventLog
from server.game_sessions import require_dm


class MonsterRemoved(TypedDict):
    instance_id: int
    instance_name: str
    session_id: int
    token_ids: list[int]  # its tokens, gone from every map
    initiative_id: int | None  # its place in the initiative tracker, if it had one
    deleted: bool


async def remove(log: EventLog, dm: User, instance_id: int) -> MonsterRemoved:
    session_id = await log.db.fetch_val(
        "SELECT session_id FROM monster_instances WHERE instance_id = :iid", {"iid": instance_id}
    )
    if session_id is None:
        raise NotFound("Monster instance not found")
    await require_dm(log.db, session_id, dm)
    async with log.change(session_id) as change:
        tx = change.tx
        name = await tx.fetch_val(
            "SELECT instance_name FROM monster_instances WHERE instance_id = :iid" + tx.for_update, {"iid": instance_id}
        )
        if name is None:  # removed by a concurrent request since the check above
            raise NotFound("Monster instance not found")
        token_ids = await map_tokens.remove_monster_tokens(change, session_id, instance_id)
        initiative_id = await initiative.withdraw_monster(change, session_id, instance_id)
        await tx.execute("DELETE FROM monster_instances WHERE instance_id = :iid", {"iid": instance_id})
        removed = {"instance_id": instance_id, "instance_name": name}
        result = {**removed, "session_id": session_id, "token_ids": token_ids, "initiative_id": initiative_id}
        await change.record(session_id, "monster_removed", result, player_data=removed)
    return {
        "instance_id": instance_id,
        "instance_name": name,
        "session_id": session_id,
        "token_ids": token_ids,
        "initiative_id": initiative_id,
        "deleted": True,
    }
