"""Game sessions through the domain functions: creation, invitations, membership and roles, seats,
removal of a player with their characters, and the status transitions."""

from __future__ import annotations

import pytest

from server import characters, game_sessions, initiative
from server.characters import Abilities, NewCharacter
from server.errors import BadRequest, Forbidden, Invalid, NotFound
from server.event_log import EventLog
from server.game_sessions import NewGameSession


async def test_a_game_session_must_be_in_the_future(log: EventLog, user):
    with pytest.raises(Invalid) as refused:
        await game_sessions.create(log, await user(), NewGameSession("Past", "2001-01-01 19:00:00"))
    assert list(refused.value.errors) == ["session_datetime"]


async def test_membership_roles(log: EventLog, table, user):
    dm, (player,), session_id = await table()
    invitee, stranger = await user(), await user()
    await game_sessions.invite_player(log, dm, session_id, invitee.username)
    assert (await game_sessions.membership(log.db, session_id, dm)).role == "dm"
    assert (await game_sessions.membership(log.db, session_id, player)).role == "player"
    assert await game_sessions.membership(log.db, session_id, invitee) is None  # not accepted yet
    with pytest.raises(Forbidden):
        await game_sessions.require_member(log.db, session_id, stranger)
    with pytest.raises(Forbidden):
        await game_sessions.require_dm(log.db, session_id, player)
    with pytest.raises(NotFound):
        await game_sessions.membership(log.db, 999_999, dm)


async def test_invitations_stop_at_max_players(log: EventLog, user):
    dm = await user()
    created = await game_sessions.create(log, dm, NewGameSession("Small", "2099-01-01 19:00:00", max_players=1))
    first, second = await user(), await user()
    await game_sessions.invite_player(log, dm, created["session_id"], first.username)
    with pytest.raises(Invalid) as refused:
        await game_sessions.invite_player(log, dm, created["session_id"], second.username)
    assert "maximum" in refused.value.errors["username"]
    with pytest.raises(Invalid):
        await game_sessions.invite_player(log, dm, created["session_id"], dm.username)


async def test_a_removed_player_takes_their_characters_out_of_the_session_and_the_tracker(log: EventLog, table):
    dm, (player,), session_id = await table()
    new = NewCharacter("Aldric", "fighter", "lawful", Abilities(16, 12, 14, 10, 11, 9), session_id)
    character_id = (await characters.create(log, player, new))["character_id"]
    await initiative.add_character(log, dm, session_id, character_id)
    removed = await game_sessions.remove_player(log, dm, session_id, player.user_id)
    assert removed["status"] == "removed" and removed["character_ids"] == [character_id]
    assert await game_sessions.membership(log.db, session_id, player) is None
    assert (await initiative.get(log, dm, session_id))["initiatives"] == []
    sheet = await characters.get(log.db, player, character_id)
    assert sheet["session_id"] is None


async def test_status_goes_scheduled_active_completed_and_no_other_way(log: EventLog, table):
    dm, _, session_id = await table(players=0)
    with pytest.raises(BadRequest):
        await game_sessions.change_status(log, dm, session_id, "end")
    started = await game_sessions.change_status(log, dm, session_id, "start")
    assert (started["old_status"], started["status"]) == ("scheduled", "active")
    ended = await game_sessions.change_status(log, dm, session_id, "end")
    assert ended["status"] == "completed"
    with pytest.raises(BadRequest):
        await game_sessions.change_status(log, dm, session_id, "start")
