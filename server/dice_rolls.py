"""Dice rolled by the server at the table, with who may see each result, and the DM's roll-and-apply.

Visibility, and what each member of the game session gets of a `dice_rolled` event (live, in replay and in
the history):
  public  everyone: the whole result
  dm      the roller and the DM: the result; everyone else: only that a roll was made
  blind   the DM: the result; everyone else, the roller too: only that a roll was made
  self    the roller: the result; nobody else anything
  whisper the roller and the listed members: the result; nobody else anything (the DM only if listed)
"A roll was made" is the redacted form: who rolled, the visibility, and the event id; no expression, label
or number. A roll's id is the event_id of its `dice_rolled` event.
"""

from __future__ import annotations

import random
from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from server import characters, game_sessions, monster_instances, wire
from server.accounts import User
from server.errors import Forbidden, Invalid
from server.event_log import EventLog
from server.hit_points import HitPointChange
from server.rules import dice
from server.send_rate import SendRate

Visibility = Literal["public", "dm", "blind", "self", "whisper"]


class Die(TypedDict):
    value: int
    kept: bool  # false for a die dropped by keep-highest or keep-lowest


class Term(TypedDict):
    sign: Literal["+", "-"]
    count: int
    sides: int
    keep: str | None  # "h3" (keep the 3 highest) or "l1" (the lowest)
    dice: list[Die]
    subtotal: int


class RolledDice(TypedDict):
    """A roll as a viewer may see it: who may not see its numbers (a blind roll's roller, the others of a
    roll to the DM) get `hidden` true with only the roller and the visibility."""

    roller_user_id: int
    visibility: Visibility
    hidden: NotRequired[bool]
    roller_name: NotRequired[str]
    label: NotRequired[str | None]
    whisper_to: NotRequired[list[int]]
    expression: NotRequired[str]
    terms: NotRequired[list[Term]]
    modifier: NotRequired[int]
    total: NotRequired[int]


class Rolled(RolledDice):
    roll_id: int  # its event_id
    applied: monster_instances.HitPoints | characters.HitPoints | None  # the damage dealt, when asked for


class RollEntry(TypedDict):
    event_id: int
    event_type: Literal["dice_rolled"]
    event_data: RolledDice
    created_at: str


class RollPage(TypedDict):
    rolls: list[RollEntry]  # oldest first
    next_before_id: int | None  # the page before this one; null at the start of the game session


HISTORY_PAGE = 50
_rng = random.SystemRandom()


def parse(expression: str) -> dice.Expression:
    """The expression, or Invalid whose message names the column and draws the caret."""
    try:
        return dice.parse(expression)
    except dice.DiceError as exc:
        detail = f"{exc.message}\n{exc.context}"
        raise Invalid({"expression": detail}, f"Bad dice expression. {detail}") from None


async def _audience(
    log: EventLog, member: game_sessions.Membership, roller: int, visibility: Visibility, whisper_to: list[int]
) -> dict[str, Any]:
    """The keyword arguments of Change.record that give each member the form the table above says."""
    if visibility == "public":
        return {}
    redacted = {"roller_user_id": roller, "visibility": visibility, "hidden": True}
    if visibility == "dm":
        return {"audience": "users", "user_ids": {roller, member.dm_user_id}, "redacted_data": redacted}
    if visibility == "blind":
        return {"audience": "users", "user_ids": {member.dm_user_id}, "redacted_data": redacted}
    if visibility == "self":
        return {"audience": "users", "user_ids": {roller}}
    await game_sessions.require_members(log.db, member.session_id, whisper_to, "whisper_to")
    return {"audience": "users", "user_ids": {roller, *whisper_to}}


async def roll(
    log: EventLog,
    rate: SendRate,
    user: User,
    session_id: int,
    expression: str,
    *,
    label: str | None = None,
    visibility: Visibility = "public",
    whisper_to: list[int] | None = None,
    damage_to: tuple[Literal["character", "monster"], int] | None = None,
    rng: random.Random = _rng,
) -> Rolled:
    """Roll on the server and record `dice_rolled` for those who may see it. With `damage_to` (the DM
    only) the total, if positive, is dealt as damage to that character or monster in the same transaction:
    both events are in the log or neither. Rolls count against the user's send rate (apart from chat):
    RateLimited past it."""
    parsed = parse(expression)
    if visibility == "whisper" and not whisper_to:
        raise Invalid({"whisper_to": "Name at least one member to whisper the roll to"})
    member = await game_sessions.require_member(log.db, session_id, user)
    if damage_to is not None and member.role != "dm":
        raise Forbidden("Only the DM can apply a roll as damage")
    audience = await _audience(log, member, user.user_id, visibility, whisper_to or [])
    await rate.spend(f"dice:{user.user_id}", "rolls")
    async with log.change(session_id) as change:
        result = dice.roll(parsed, rng)
        data = {
            "roller_user_id": user.user_id,
            "roller_name": user.username,
            "label": label,
            "visibility": visibility,
            "whisper_to": sorted(set(whisper_to or [])) if visibility == "whisper" else [],
            **result.to_dict(),
        }
        event = await change.record(session_id, "dice_rolled", data, **audience)
        applied: monster_instances.HitPoints | characters.HitPoints | None = None
        if damage_to is not None:
            kind, target_id = damage_to
            damage = max(0, result.total)
            if kind == "monster":
                applied = await monster_instances.apply_hp(change, target_id, HitPointChange(damage=damage))
            else:
                applied = await characters.apply_hp(change, user, target_id, HitPointChange(damage=damage))
    # The roller's answer is their own form of the event: a blind roll's roller learns no number either.
    seen = wire.envelope_for(event, game_sessions.viewer(user, member))
    return cast(Rolled, {"roll_id": event.event_id, **(seen["event_data"] if seen else {}), "applied": applied})


async def history(
    log: EventLog, user: User, session_id: int, before_id: int | None, limit: int = HISTORY_PAGE
) -> RollPage:
    """One page of the game session's rolls as `user` may see them, oldest first; `next_before_id` asks
    for the page before it (None at the start of the session)."""
    member = await game_sessions.require_member(log.db, session_id, user)
    viewer = game_sessions.viewer(user, member)
    events, before = await log.history(session_id, viewer, ("dice_rolled",), before=before_id, limit=limit)
    rolls = [envelope for event in events if (envelope := wire.envelope_for(event, viewer)) is not None]
    return {"rolls": cast(list[RollEntry], rolls), "next_before_id": before}
