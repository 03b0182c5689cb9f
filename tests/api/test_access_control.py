"""The README's access-control table, checked cell by cell against a running server.

Each row gets a fresh game table: a DM, an accepted player who owns a character in it, a logged-in
stranger ("other player"), a moderator who is not in it, and an anonymous browser."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from server import accounts
from tests.live import FIGHTER, PASSWORD, Client, LiveServer, game_table, map_image, png, spawn, upload, upload_map

ROLES = ("anonymous", "player", "other player", "DM", "moderator")
README = Path(__file__).resolve().parents[2] / "README.md"


def table() -> list[tuple[str, list[str]]]:
    text = README.read_text()
    section = text[text.index("## Access control") :]
    section = section[: section.index("\n## ", 3)]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            endpoint = re.sub(r" \(.*\)$", "", cells[0].strip("`").split("`")[0])
            rows.append((endpoint, [cell.split()[0] for cell in cells[1:]]))
    return rows


@dataclass
class Table:
    server: LiveServer
    clients: dict[str, Client]
    session_id: int
    character_id: int
    invitee: Client
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dm(self) -> Client:
        return self.clients["DM"]


async def seat(server: LiveServer) -> Table:
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    other = await Client(server).register()
    await accounts.create_user(server.services.db, "moderator", "mod@example.com", PASSWORD, is_moderator=True)
    moderator = Client(server)
    assert (await moderator.login("moderator")).status_code == 200
    invitee = await Client(server).register()
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": invitee.user["username"]})
    clients = {"anonymous": Client(server), "player": player, "other player": other, "DM": dm, "moderator": moderator}
    return Table(server, clients, session_id, character["character_id"], invitee)


async def status(response: Any) -> str:
    return str(response.status_code)


async def socket_answer(client: Client, table: Table) -> str:
    socket = await client.socket(table.session_id)
    frame = await socket.frame()
    if frame["type"] == "hello":
        return "hello"
    try:
        while True:
            await socket.connection.recv()
    except ConnectionClosed as closed:
        return str(closed.rcvd.code if closed.rcvd else None)


async def in_tracker(t: Table, kind: str) -> int:
    if kind == "character":
        body = {"session_id": t.session_id, "character_id": t.character_id}
    else:
        instance = (await spawn(t.dm, t.session_id))["instances"][0]
        body = {"session_id": t.session_id, "monster_instance_id": instance["instance_id"]}
    return int((await t.dm.ok(f"/api/combat/add-{kind}.php", body))["initiative_id"])


Call = Callable[[Client, Table], Awaitable[str]]


def post(path: str, body: Callable[[Table], dict[str, Any]]) -> Call:
    async def call(client: Client, t: Table) -> str:
        return await status(await client.post(path, body(t)))

    return call


def get(path: str, params: Callable[[Table], dict[str, Any]] = lambda t: {}) -> Call:
    async def call(client: Client, t: Table) -> str:
        return await status(await client.get(path, **params(t)))

    return call


def session(t: Table) -> dict[str, Any]:
    return {"session_id": t.session_id}


async def prepare(endpoint: str, t: Table) -> None:
    """Whatever must exist before a row's calls mean what the table says."""
    if endpoint in ("POST /api/combat/roll-initiative.php", "POST /api/combat/next-turn.php"):
        await in_tracker(t, "character")
    elif endpoint == "POST /api/combat/remove-character.php":
        t.extra["initiative_id"] = await in_tracker(t, "character")
    elif endpoint == "POST /api/combat/remove-monster.php":
        t.extra["initiative_id"] = await in_tracker(t, "monster")
    elif endpoint == "POST /api/session/end.php":
        await t.dm.ok("/api/session/start.php", session(t))
    elif endpoint.startswith(
        (
            "POST /api/monsters/update",
            "POST /api/monsters/delete",
            "GET /api/monsters/list-instances",
            "POST /api/combat/add-m",
        )
    ):
        t.extra["instance_id"] = (await spawn(t.dm, t.session_id))["instances"][0]["instance_id"]
    elif endpoint.split()[1].startswith(MAPS) and not endpoint.endswith("upload.php"):
        await battle_map(t)
    elif endpoint == "GET /images/forum/<name>":
        t.extra["image"] = (await upload(t.dm, "map.png", png())).json()["data"]["filename"]
    if endpoint.startswith("POST /api/monsters/create-instance") or endpoint.startswith("GET /api/monsters/get"):
        t.extra["monster_id"] = (await t.dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"][
            0
        ]["monster_id"]


MAPS = "/api/session/maps"


async def battle_map(t: Table) -> None:
    """An active map with the player's character's token on it, all revealed."""
    t.extra["map_id"] = (await upload_map(t.dm, t.session_id, map_image(200, 100))).json()["data"]["map_id"]
    token = {"map_id": t.extra["map_id"], "character_id": t.character_id, "x_position": 10, "y_position": 10}
    t.extra["token_id"] = (await t.dm.ok(f"{MAPS}/tokens/add.php", token))["token_id"]
    await t.dm.ok(f"{MAPS}/fog/reveal.php", {"map_id": t.extra["map_id"], "cells": [[0, 0]]})


def on_map(method: str, path: str, body: Callable[[Table], dict[str, Any]]) -> Call:
    async def call(client: Client, t: Table) -> str:
        return await status(await client.send(method, f"{MAPS}/{path}", body(t)))

    return call


def the_map(t: Table) -> dict[str, Any]:
    return {"map_id": t.extra["map_id"]}


def the_token(t: Table) -> dict[str, Any]:
    return {"token_id": t.extra["token_id"]}


async def delete_a_new_map(client: Client, t: Table) -> str:
    map_id = (await upload_map(t.dm, t.session_id, map_image(20, 20))).json()["data"]["map_id"]
    return await status(await client.send("DELETE", f"{MAPS}/delete.php?map_id={map_id}"))


async def delete_a_new_token(client: Client, t: Table) -> str:
    token = await t.dm.ok(f"{MAPS}/tokens/add.php", {**the_map(t), "x_position": 5, "y_position": 5})
    return await status(await client.send("DELETE", f"{MAPS}/tokens/delete.php?token_id={token['token_id']}"))


async def upload_a_map(client: Client, t: Table) -> str:
    return await status(await upload_map(client, t.session_id, map_image(20, 20)))


async def map_image_file(client: Client, t: Table) -> str:
    return await status(await client.http.get(f"{MAPS}/image.php", params=the_map(t)))


async def image(client: Client, t: Table) -> str:
    return await status(await client.http.get(f"/images/forum/{t.extra['image']}"))


async def delete_message(client: Client, t: Table) -> str:
    sent = await t.clients["player"].ok("/api/chat/send.php", {**session(t), "text": "a word"})
    return await status(await client.post("/api/chat/delete.php", {**session(t), "message_id": sent["message_id"]}))


async def delete_instance(client: Client, t: Table) -> str:
    """Each role tries on a monster of its own: the DM's success would leave the next role a 404."""
    instance_id = (await spawn(t.dm, t.session_id))["instances"][0]["instance_id"]
    return await status(await client.post("/api/monsters/delete-instance.php", {"instance_id": instance_id}))


async def upload_image(client: Client, t: Table) -> str:
    return await status(await upload(client, "map.png", png()))


CALLS: dict[str, Call] = {
    "POST /api/auth/logout.php": post("/api/auth/logout.php", lambda t: {}),
    "GET /api/auth/verify.php": get("/api/auth/verify.php"),
    "GET /api/health": get("/api/health"),
    "POST /api/audio/control.php": post(
        "/api/audio/control.php", lambda t: {**session(t), "action": "volume", "volume": 5}
    ),
    "GET /api/realtime/poll.php": get("/api/realtime/poll.php", lambda t: {**session(t), "timeout": 0}),
    "GET /api/realtime/ws": socket_answer,
    "POST /api/character/create.php": post("/api/character/create.php", lambda t: {**FIGHTER, **session(t)}),
    "GET /api/character/get.php": get("/api/character/get.php", lambda t: {"character_id": t.character_id}),
    "GET /api/character/list.php": get("/api/character/list.php"),
    "POST /api/character/update-hp.php": post(
        "/api/character/update-hp.php", lambda t: {"character_id": t.character_id, "healing": 1}
    ),
    "POST /api/character/grant-xp.php": post(
        "/api/character/grant-xp.php",
        lambda t: {**session(t), "character_ids": [t.character_id], "xp_amount": 10},
    ),
    "POST /api/session/create.php": post(
        "/api/session/create.php",
        lambda t: {"session_title": "Another night", "session_datetime": "2099-02-01 19:00:00"},
    ),
    "GET /api/session/list.php": get("/api/session/list.php"),
    "POST /api/session/invite-player.php": post(
        "/api/session/invite-player.php",
        lambda t: {**session(t), "username": t.clients["other player"].user["username"]},
    ),
    "POST /api/session/accept-invitation.php": post("/api/session/accept-invitation.php", session),
    "POST /api/session/remove-player.php": post(
        "/api/session/remove-player.php", lambda t: {**session(t), "user_id": t.clients["player"].user_id}
    ),
    "POST /api/session/start.php": post("/api/session/start.php", session),
    "POST /api/session/end.php": post("/api/session/end.php", session),
    "POST /api/forum/posts/upload-image.php": upload_image,
    "GET /images/forum/<name>": image,
    "GET /api/monsters/list.php": get("/api/monsters/list.php"),
    "GET /api/monsters/get.php": get("/api/monsters/get.php", lambda t: {"monster_id": t.extra["monster_id"]}),
    "POST /api/monsters/create-instance.php": post(
        "/api/monsters/create-instance.php", lambda t: {**session(t), "monster_id": t.extra["monster_id"]}
    ),
    "POST /api/monsters/update-instance.php": post(
        "/api/monsters/update-instance.php", lambda t: {"instance_id": t.extra["instance_id"], "notes": "Flees at 2 HP"}
    ),
    "POST /api/monsters/update-hp.php": post(
        "/api/monsters/update-hp.php", lambda t: {"instance_id": t.extra["instance_id"], "damage": 1}
    ),
    "POST /api/monsters/delete-instance.php": delete_instance,
    "GET /api/monsters/list-instances.php": get("/api/monsters/list-instances.php", session),
    "POST /api/combat/add-character.php": post(
        "/api/combat/add-character.php", lambda t: {**session(t), "character_id": t.character_id}
    ),
    "POST /api/combat/add-monster.php": post(
        "/api/combat/add-monster.php",
        lambda t: {**session(t), "monster_instance_id": t.extra["instance_id"]},
    ),
    "POST /api/combat/roll-initiative.php": post("/api/combat/roll-initiative.php", session),
    "POST /api/combat/next-turn.php": post("/api/combat/next-turn.php", session),
    "GET /api/combat/get-initiative.php": get("/api/combat/get-initiative.php", session),
    "POST /api/combat/remove-character.php": post(
        "/api/combat/remove-character.php", lambda t: {**session(t), "initiative_id": t.extra["initiative_id"]}
    ),
    "POST /api/combat/remove-monster.php": post(
        "/api/combat/remove-monster.php", lambda t: {**session(t), "initiative_id": t.extra["initiative_id"]}
    ),
    "POST /api/combat/clear-initiative.php": post("/api/combat/clear-initiative.php", session),
    "GET /api/session/get-dm-dashboard.php": get("/api/session/get-dm-dashboard.php", session),
    "GET /api/items/list.php": get("/api/items/list.php"),
    "POST /api/dice/roll.php": post("/api/dice/roll.php", lambda t: {**session(t), "expression": "d20"}),
    "GET /api/dice/history.php": get("/api/dice/history.php", session),
    "POST /api/chat/send.php": post("/api/chat/send.php", lambda t: {**session(t), "text": "Hello"}),
    "POST /api/chat/delete.php": delete_message,
    "GET /api/chat/history.php": get("/api/chat/history.php", session),
    "GET /api/session/snapshot.php": get("/api/session/snapshot.php", session),
    "POST /api/session/maps/upload.php": upload_a_map,
    "GET /api/session/maps/list.php": get(f"{MAPS}/list.php", session),
    "GET /api/session/maps/get.php": get(f"{MAPS}/get.php", the_map),
    "GET /api/session/maps/image.php": map_image_file,
    "PUT /api/session/maps/update.php": on_map("PUT", "update.php", lambda t: {**the_map(t), "map_name": "Crypt"}),
    "DELETE /api/session/maps/delete.php": delete_a_new_map,
    "POST /api/session/maps/tokens/add.php": on_map(
        "POST", "tokens/add.php", lambda t: {**the_map(t), "x_position": 1, "y_position": 1}
    ),
    "PUT /api/session/maps/tokens/move.php": on_map(
        "PUT", "tokens/move.php", lambda t: {**the_token(t), "x_position": 20, "y_position": 20}
    ),
    "PUT /api/session/maps/tokens/update.php": on_map(
        "PUT", "tokens/update.php", lambda t: {**the_token(t), "label": "Scout"}
    ),
    "DELETE /api/session/maps/tokens/delete.php": delete_a_new_token,
    "GET /api/session/maps/tokens/list.php": get(f"{MAPS}/tokens/list.php", the_map),
    "POST /api/session/maps/fog/reveal.php": on_map(
        "POST", "fog/reveal.php", lambda t: {**the_map(t), "cells": [[1, 1]]}
    ),
    "POST /api/session/maps/fog/hide.php": on_map("POST", "fog/hide.php", lambda t: {**the_map(t), "cells": [[1, 1]]}),
    "POST /api/session/maps/fog/reset.php": on_map("POST", "fog/reset.php", the_map),
    "POST /api/session/maps/drawings/add.php": on_map(
        "POST", "drawings/add.php", lambda t: {**the_map(t), "drawing_type": "stroke", "path_data": [[1, 1]]}
    ),
    "GET /api/session/maps/drawings/get.php": get(f"{MAPS}/drawings/get.php", the_map),
    "POST /api/session/maps/drawings/clear.php": on_map("POST", "drawings/clear.php", the_map),
}


def test_the_table_lists_every_endpoint_this_test_knows():
    assert {endpoint for endpoint, _ in table()} == set(CALLS)


@pytest.mark.parametrize(("endpoint", "expected"), table(), ids=[row[0] for row in table()])
async def test_access(server: LiveServer, endpoint: str, expected: list[str]):
    t = await seat(server)
    await prepare(endpoint, t)
    answers = []
    for role in ROLES:
        client = t.invitee if (role == "player" and endpoint.endswith("accept-invitation.php")) else t.clients[role]
        answers.append(await CALLS[endpoint](client, t))
    assert dict(zip(ROLES, answers, strict=True)) == dict(zip(ROLES, expected, strict=True))
