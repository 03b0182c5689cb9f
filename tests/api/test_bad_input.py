"""Every endpoint, fed wrong types and extreme values in its id-like fields, answers in the envelope
and never with a 500."""

from __future__ import annotations

from server.api.routes import ENDPOINTS
from tests.live import FIGHTER, LiveServer, game_table

FIELDS = (
    "session_id",
    "character_id",
    "instance_id",
    "monster_id",
    "initiative_id",
    "monster_instance_id",
    "user_id",
    "character_ids",
    "page",
    "limit",
    "count",
    "last_event_id",
    "timeout",
)
VALUES = (2**31, 2**40, 10**30, -1, 1.5, "x", None, [], {}, "' OR 1=1 --")


async def test_no_endpoint_answers_500_to_bad_values(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    valid = {"session_id": session_id, "character_id": character["character_id"]}
    failures = []
    for path, endpoint in ENDPOINTS:
        if not endpoint.enveloped or endpoint.media_type != "application/json" or "logout" in path:
            continue
        for field in FIELDS:
            for value in VALUES:
                if endpoint.method == "POST":
                    response = await dm.post(path, {**valid, field: value})
                else:
                    response = await dm.get(path, **{**valid, "timeout": 0, field: str(value)})
                body = response.json()
                if response.status_code >= 500 or body.get("status") not in ("success", "error"):
                    failures.append((path, field, value, response.status_code))
    assert failures == []
