"""The battle map in Chromium: upload, tokens, fog, and a drag that the other screen follows, with
nothing secret in what the player's page received."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.battle_map_story import story
from tests.browser.seats import received_by


def token_ids(value: Any) -> set[int]:
    """Every token_id anywhere in a received JSON value."""
    if isinstance(value, dict):
        found = {value["token_id"]} if "token_id" in value else set()
        return found.union(*(token_ids(item) for item in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(token_ids(item) for item in value))
    return set()


async def test_the_dm_reveals_a_room_and_the_player_drags_their_token(browser, server, tmp_path):
    seats = await story(browser, server, out=tmp_path)
    assert (tmp_path / "battle-map-dm.png").stat().st_size > 0
    received = await received_by(seats["player"])
    goblin, aldric = seats["tokens"]["Goblin #1"], seats["tokens"]["Aldric"]
    assert aldric in token_ids(received) and goblin not in token_ids(received)  # under fog: never sent
    drags = [json.loads(f) for f in seats["dm"].frames if isinstance(f, str) and '"ephemeral"' in f]
    assert any(frame["event_type"] == "map_token_dragged" for frame in drags)  # the DM saw the drag live
    for seat in (seats["dm"], seats["player"]):
        assert seat.errors == [], seat.errors
