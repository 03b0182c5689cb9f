"""Tokens on a battle map: placing, moving, changing and removing them, and what each viewer sees.

A token may stand for a character or a monster instance of the game session, or be a plain marker. The
DM places, changes and removes tokens and moves any; a player moves only the token of their own
character. What players see goes through `server/map_visibility.py`: a hidden token, a token under fog or
on a map that is not the active one is never sent to them. A monster's token shows players what the
monster list shows them (name and condition), never its hit points.

Events (`record_token_change`): `map_token_added`, `map_token_moved`, `map_token_changed`,
`map_token_removed`. When a change makes a token appear to players or vanish from them, the DM gets the
event and the players get `map_token_added` or `map_token_removed` instead.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any, NotRequired

from typing_extensions import TypedDict

from server import clock, map_visibility
from server.accounts import User
from server.battle_maps import for_dm, for_member, load
from server.database import Database, Row, Transaction
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.event_log import Change, EventLog
from server.monster_instances import condition

MAX_TOKENS_PER_MAP = 500
DEFAULT_COLOR = "#FF0000"
_SELECT = (
    "SELECT t.token_id, t.map_id, t.character_id, t.monster_instance_id, t.label, t.color, t.size, t.x_position, "
    "t.y_position, t.hidden, t.created_at, t.updated_at, c.user_id AS owner_user_id, mi.instance_name, "
    "m.name AS monster_name, mi.current_hp, mi.max_hp FROM map_tokens t "
    "LEFT JOIN characters c ON c.character_id = t.character_id "
    "LEFT JOIN monster_instances mi ON mi.instance_id = t.monster_instance_id "
    "LEFT JOIN monsters m ON m.monster_id = mi.monster_id"
)


class TokenMonster(TypedDict):
    instance_id: int
    instance_name: str
    monster_name: str
    condition: str  # unhurt, wounded, badly wounded or dead: all a player learns of its health
    current_hp: NotRequired[int]  # the DM's view only
    max_hp: NotRequired[int]  # the DM's view only


class Token(TypedDict):
    token_id: int
    map_id: int
    character_id: int | None
    owner_user_id: int | None  # the player whose character it is
    monster_instance_id: int | None
    monster: TokenMonster | None
    label: str
    color: str
    size: int  # grid squares
    x_position: float  # its centre, map pixels
    y_position: float
    hidden: NotRequired[bool]  # the DM's view only (players are never sent a hidden token)
    created_at: NotRequired[str]  # the DM's view only
    updated_at: NotRequired[str]  # the DM's view only


class TokenList(TypedDict):
    tokens: list[Token]


class TokenRemoved(TypedDict):
    token_id: int
    map_id: int
    deleted: bool


def player_view(row: Row) -> Token:
    """What players see of a token (only ever of one they are shown)."""
    monster: TokenMonster | None = None
    if row["monster_instance_id"] is not None:
        monster = {
            "instance_id": row["monster_instance_id"],
            "instance_name": row["instance_name"],
            "monster_name": row["monster_name"],
            "condition": condition(row["current_hp"], row["max_hp"]),
        }
    return {
        "token_id": row["token_id"],
        "map_id": row["map_id"],
        "character_id": row["character_id"],
        "owner_user_id": row["owner_user_id"],
        "monster_instance_id": row["monster_instance_id"],
        "monster": monster,
        "label": row["label"],
        "color": row["color"],
        "size": row["size"],
        "x_position": row["x_position"],
        "y_position": row["y_position"],
    }


def dm_view(row: Row) -> Token:
    view = player_view(row)
    if view["monster"] is not None:
        view["monster"]["current_hp"], view["monster"]["max_hp"] = row["current_hp"], row["max_hp"]
    view["hidden"], view["created_at"], view["updated_at"] = bool(row["hidden"]), row["created_at"], row["updated_at"]
    return view


async def _token(db: Database | Transaction, token_id: int) -> Row:
    row = await db.fetch_one(f"{_SELECT} WHERE t.token_id = :tid", {"tid": token_id})
    if row is None:
        raise NotFound("Token not found")
    return row


async def record_token_change(
    change: Change, map_row: Row, event_type: str, token: Row, was_shown: bool, is_shown: bool
) -> None:
    """Record `event_type` for the DM, and for players what the change means to them (module docstring).
    `token` is the token after the change (before it, for a removal)."""
    session_id = map_row["session_id"]
    removal = {"token_id": token["token_id"], "map_id": token["map_id"]}
    dm_data = removal if event_type == "map_token_removed" else {"token": dm_view(token)}
    if was_shown and (is_shown or event_type == "map_token_removed"):
        player_data = None if event_type == "map_token_removed" else {"token": player_view(token)}
        await change.record(session_id, event_type, dm_data, player_data=player_data)
        return
    await change.record(session_id, event_type, dm_data, audience="dm")
    if is_shown and not was_shown:
        await change.record(session_id, "map_token_added", {"token": player_view(token)}, audience="players")
    elif was_shown and not is_shown:
        await change.record(session_id, "map_token_removed", removal, audience="players")


async def _belongs(tx: Transaction, session_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Check that the character or monster instance is of this game session; the default label."""
    if fields.get("character_id") and fields.get("monster_instance_id"):
        raise Invalid({"character_id": "A token stands for a character or a monster instance, not both"})
    for field, sql in (
        ("character_id", "SELECT character_name FROM characters WHERE character_id = :id AND session_id = :sid"),
        (
            "monster_instance_id",
            "SELECT instance_name FROM monster_instances WHERE instance_id = :id AND session_id = :sid",
        ),
    ):
        if fields.get(field):
            name = await tx.fetch_val(sql, {"id": fields[field], "sid": session_id})
            if name is None:
                what = "character" if field == "character_id" else "monster instance"
                raise Invalid({field: f"No such {what} in this game session"})
            return {"label": fields.get("label") or name}
    return {"label": fields.get("label") or "Marker"}


def _within(map_row: Row, x: float, y: float) -> None:
    if not (0 <= x <= map_row["width"] and 0 <= y <= map_row["height"]):
        raise Invalid({"x_position": f"The position must lie on the map (0-{map_row['width']}, 0-{map_row['height']})"})


async def add(log: EventLog, dm: User, map_id: int, fields: dict[str, Any]) -> Token:
    map_row = await for_dm(log.db, dm, map_id)
    _within(map_row, fields["x_position"], fields["y_position"])
    async with log.change(map_row["session_id"]) as change:
        tx = change.tx
        map_row = await load(tx, map_id)
        label = (await _belongs(tx, map_row["session_id"], fields))["label"]
        count = await tx.fetch_val("SELECT count(*) FROM map_tokens WHERE map_id = :mid", {"mid": map_id})
        if count >= MAX_TOKENS_PER_MAP:
            raise Conflict(f"A map has at most {MAX_TOKENS_PER_MAP} tokens")
        if fields.get("character_id") and await tx.fetch_val(
            "SELECT 1 FROM map_tokens WHERE map_id = :mid AND character_id = :cid",
            {"mid": map_id, "cid": fields["character_id"]},
        ):
            raise Conflict("This character already has a token on this map")
        now = clock.now_text()
        token_id = await tx.fetch_val(
            "INSERT INTO map_tokens (map_id, character_id, monster_instance_id, label, color, size, x_position, "
            "y_position, hidden, created_at, updated_at) VALUES (:mid, :cid, :iid, :label, :color, :size, :x, :y, "
            ":hidden, :now, :now) RETURNING token_id",
            {
                "mid": map_id,
                "cid": fields.get("character_id"),
                "iid": fields.get("monster_instance_id"),
                "label": label,
                "color": fields.get("color") or DEFAULT_COLOR,
                "size": fields.get("size") or 1,
                "x": fields["x_position"],
                "y": fields["y_position"],
                "hidden": int(bool(fields.get("hidden"))),
                "now": now,
            },
        )
        token = await _token(tx, token_id)
        shown = await map_visibility.shown_now(tx, map_row, token)
        await record_token_change(change, map_row, "map_token_added", token, False, shown)
    return dm_view(token)


async def _session_of(db: Database, token_id: int) -> tuple[int, int]:
    row = await db.fetch_one(
        "SELECT t.map_id, b.session_id FROM map_tokens t JOIN battle_maps b ON b.map_id = t.map_id "
        "WHERE t.token_id = :tid",
        {"tid": token_id},
    )
    if row is None:
        raise NotFound("Token not found")
    return row["map_id"], row["session_id"]


async def may_move(db: Database, user: User, token_id: int) -> tuple[Row, Row, bool]:
    """(map, token, is_dm) when `user` may move the token: the DM any, a player their character's only
    (and only on the active map). Forbidden or NotFound otherwise."""
    map_id, _ = await _session_of(db, token_id)
    map_row, member = await for_member(db, user, map_id)
    token = await _token(db, token_id)
    if not member.viewer_is_dm and token["owner_user_id"] != user.user_id:
        raise Forbidden("You can move only your own character's token")
    return map_row, token, member.viewer_is_dm


async def may_drag(db: Database, user_id: int, session_id: int, token_id: int) -> int:
    """The map of the token `user_id` may drag in game session `session_id` (the DM any token, a
    player their own character's on the active map); Forbidden or NotFound otherwise."""
    row = await db.fetch_one(
        "SELECT b.map_id, b.session_id, b.is_active, g.dm_user_id, c.user_id AS owner_user_id FROM map_tokens t "
        "JOIN battle_maps b ON b.map_id = t.map_id JOIN game_sessions g ON g.session_id = b.session_id "
        "LEFT JOIN characters c ON c.character_id = t.character_id WHERE t.token_id = :tid",
        {"tid": token_id},
    )
    if row is None or row["session_id"] != session_id:
        raise NotFound("Token not found")
    check_drag(user_id, row["dm_user_id"] == user_id, bool(row["is_active"]), row["owner_user_id"])
    return int(row["map_id"])


def check_drag(user_id: int, is_dm: bool, on_active_map: bool, owner_user_id: int | None) -> None:
    """The rule of `may_drag`, for a token whose facts are known: Forbidden unless `user_id` may drag it."""
    if not is_dm and not (on_active_map and owner_user_id == user_id):
        raise Forbidden("You can move only your own character's token")


async def move(log: EventLog, user: User, token_id: int, x: float, y: float) -> Token:
    map_row, _, is_dm = await may_move(log.db, user, token_id)
    _within(map_row, x, y)
    token = await _change(log, map_row, token_id, "map_token_moved", {"x_position": x, "y_position": y})
    return dm_view(token) if is_dm else player_view(token)


async def update(log: EventLog, dm: User, token_id: int, fields: dict[str, Any]) -> Token:
    """Change the label, colour, size or `hidden` of a token (the DM)."""
    map_id, _ = await _session_of(log.db, token_id)
    map_row = await for_dm(log.db, dm, map_id)
    values = {field: int(value) if field == "hidden" else value for field, value in fields.items()}
    return dm_view(await _change(log, map_row, token_id, "map_token_changed", values))


async def _change(log: EventLog, map_row: Row, token_id: int, event_type: str, values: dict[str, Any]) -> Row:
    """Set `values` (trusted column names) on the token in one change, recording what it means to whom."""
    async with log.change(map_row["session_id"]) as change:
        tx = change.tx
        map_row = await load(tx, map_row["map_id"])
        was_shown = await map_visibility.shown_now(tx, map_row, await _token(tx, token_id))
        assignments = ", ".join(f"{field} = :{field}" for field in values)
        await tx.execute(
            f"UPDATE map_tokens SET {assignments}, updated_at = :now WHERE token_id = :tid",
            {**values, "now": clock.now_text(), "tid": token_id},
        )
        token = await _token(tx, token_id)
        is_shown = await map_visibility.shown_now(tx, map_row, token)
        await record_token_change(change, map_row, event_type, token, was_shown, is_shown)
    return token


async def delete(log: EventLog, dm: User, token_id: int) -> TokenRemoved:
    map_id, _ = await _session_of(log.db, token_id)
    map_row = await for_dm(log.db, dm, map_id)
    async with log.change(map_row["session_id"]) as change:
        tx = change.tx
        map_row = await load(tx, map_id)
        token = await _token(tx, token_id)
        was_shown = await map_visibility.shown_now(tx, map_row, token)
        await tx.execute("DELETE FROM map_tokens WHERE token_id = :tid", {"tid": token_id})
        await record_token_change(change, map_row, "map_token_removed", token, was_shown, False)
    return {"token_id": token_id, "map_id": map_id, "deleted": True}


async def remove_monster_tokens(change: Change, session_id: int, instance_id: int) -> list[int]:
    """Within `change`, remove every token of a monster instance from the game session's maps, each
    recorded as `delete` records it (players hear only of the tokens they were shown); their ids."""
    rows = await change.tx.fetch_all(
        f"{_SELECT} JOIN battle_maps b ON b.map_id = t.map_id "
        "WHERE t.monster_instance_id = :iid AND b.session_id = :sid ORDER BY t.token_id",
        {"iid": instance_id, "sid": session_id},
    )
    for token in rows:
        map_row = await load(change.tx, token["map_id"])
        was_shown = await map_visibility.shown_now(change.tx, map_row, token)
        await change.tx.execute("DELETE FROM map_tokens WHERE token_id = :tid", {"tid": token["token_id"]})
        await record_token_change(change, map_row, "map_token_removed", token, was_shown, False)
    return [int(token["token_id"]) for token in rows]


async def on_map(
    db: Database | Transaction, map_row: Row, for_dm_: bool, revealed: Container[tuple[int, int]] | None = None
) -> list[Token]:
    """The map's tokens as the DM or the players see them (`revealed`: the map's revealed cells, if
    the caller has read them already)."""
    rows = await db.fetch_all(f"{_SELECT} WHERE t.map_id = :mid ORDER BY t.token_id", {"mid": map_row["map_id"]})
    if for_dm_:
        return [dm_view(row) for row in rows]
    if revealed is None:
        revealed = await map_visibility.revealed_cells(db, map_row["map_id"])
    return [player_view(row) for row in rows if map_visibility.shown(map_row, row, revealed)]


async def in_cells(tx: Transaction, map_row: Row, cells: set[tuple[int, int]]) -> list[Row]:
    """The tokens players would see if exactly `cells` were revealed (none on a map that is not active)."""
    rows = await tx.fetch_all(f"{_SELECT} WHERE t.map_id = :mid AND t.hidden = 0", {"mid": map_row["map_id"]})
    return [row for row in rows if map_visibility.shown(map_row, row, cells)]


async def for_list(db: Database, user: User, map_id: int) -> list[Token]:
    map_row, member = await for_member(db, user, map_id)
    return await on_map(db, map_row, member.viewer_is_dm)
