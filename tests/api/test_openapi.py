"""The API document at /api/openapi.json: a valid OpenAPI 3.1 document that describes every route the
server has, and the readable page at /api/docs, served without any CDN."""

from __future__ import annotations

import copy
import re
from typing import Any

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server.api.openapi import error_statuses
from server.api.routes import ENDPOINTS
from tests.api.test_map_tokens import battle, spawn_goblin
from tests.live import PASSWORD, Client, LiveServer, game_table, map_image


def _routes(routes, prefix=""):
    """(kind, full path, methods) of every route of the app, through its mounts (static files aside)."""
    for route in routes:
        if isinstance(route, Mount):
            if not isinstance(route.app, StaticFiles):
                yield from _routes(route.routes, prefix + route.path)
        elif isinstance(route, WebSocketRoute):
            yield "websocket", prefix + route.path, set()
        elif isinstance(route, Route):
            yield "http", prefix + route.path, set(route.methods or ()) - {"HEAD"}


async def test_the_document_is_valid_openapi_3_1(clients):
    response = await clients().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_route_of_the_server_is_in_the_document(server, clients):
    document = (await clients().get("/api/openapi.json")).json()
    routes = list(_routes(server.app.routes))
    assert len(routes) > 40
    for kind, path, methods in routes:
        if kind == "websocket":
            assert document["x-websocket"]["path"] == path
            continue
        assert path in document["paths"], f"{path} is not in the API document"
        assert {m.lower() for m in methods} == set(document["paths"][path]), path


async def test_each_operation_documents_its_input_and_errors(clients):
    document = (await clients().get("/api/openapi.json")).json()
    login = document["paths"]["/api/auth/login.php"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Login"}
    assert {"400", "401", "413", "415", "429"} <= set(login["responses"])
    assert login["responses"]["429"]["headers"]["Retry-After"]
    grant = document["paths"]["/api/character/grant-xp.php"]["post"]
    assert {"400", "401", "403", "404", "409"} <= set(grant["responses"])
    assert grant["security"] == [{"session": [], "csrf": []}]
    xp = document["components"]["schemas"]["XpGrant"]["properties"]["xp_amount"]
    assert (xp["minimum"], xp["maximum"]) == (1, 1_000_000)  # the same bounds the server checks
    poll = document["paths"]["/api/realtime/poll.php"]["get"]
    assert [p["name"] for p in poll["parameters"]] == ["session_id", "last_event_id", "timeout"]
    assert document["x-websocket"]["close_codes"]["fell_behind"] == 4408
    for path, endpoint in ENDPOINTS:
        documented = document["paths"][path][endpoint.method.lower()]["responses"]
        assert set(documented) == {str(endpoint.status), *map(str, error_statuses(endpoint))}


async def test_the_docs_page_is_served_from_the_installed_package(clients):
    client = clients()
    page = await client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "no CDN"
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", page.text):
        answer = await client.get(f"/api/{asset}")
        assert answer.status_code == 200 and len(answer.content) > 1000, asset


async def test_the_platform_api_is_in_the_document_with_its_own_errors_and_bearer(clients):
    document = (await clients().get("/api/openapi.json")).json()
    create = document["paths"]["/v1/campaigns"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "415", "429", "503"}
    assert create["responses"]["201"]["headers"]["X-RateLimit-Remaining"]
    error = create["responses"]["403"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/PlatformError"}
    assert create["security"] == [{"bearer": []}, {"session": [], "csrf": []}]
    assert set(document["paths"]["/v1/campaigns/{campaign_id}"]) == {"get", "patch", "delete"}
    assert "204" in document["paths"]["/v1/assets/{asset_id}"]["delete"]["responses"]
    upload = document["paths"]["/v1/assets"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["type"]["enum"] == ["map", "token", "portrait", "handout", "audio"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_typed_answers_are_described_and_the_server_answers_them(server: LiveServer):
    """Where the route table declares an answer's TypedDict, the document states its `data` (and the fuzz
    in test_fuzz.py checks every answer against it); here one real answer against its schema."""
    dm, _, session_id = await game_table(server, players=0)
    document = (await dm.get("/api/openapi.json")).json()
    answer = document["paths"]["/api/combat/get-initiative.php"]["get"]["responses"]["200"]
    (envelope, typed) = answer["content"]["application/json"]["schema"]["allOf"]
    assert envelope == {"$ref": "#/components/schemas/Success"}
    assert typed["properties"]["data"] == {"$ref": "#/components/schemas/Tracker"}
    tracker = document["components"]["schemas"]["Tracker"]
    assert set(tracker["required"]) == {"initiatives", "round_number"}
    data = (await dm.get("/api/combat/get-initiative.php", session_id=session_id)).json()["data"]
    assert set(data) == set(tracker["properties"]) and data["initiatives"] == []


class Documented:
    """Checks real answers against the API document: the envelope and the declared `data`, with no key the
    document does not name (an answer that grows a field must grow its TypedDict too)."""

    def __init__(self, document: dict[str, Any]) -> None:
        components = copy.deepcopy(document["components"])
        for schema in components["schemas"].values():
            if "properties" in schema and schema.get("type") == "object":
                schema.setdefault("additionalProperties", False)
        self.document, self.components = document, components

    def check(self, response: Any, path: str, method: str = "get", status: int = 200) -> dict[str, Any]:
        """The answer's data (under /api, the envelope's `data`; under /v1, the whole answer, of `status`)."""
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        answer = self.document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
        if "allOf" in answer["schema"]:
            (_, typed) = answer["schema"]["allOf"]  # a declared answer: the envelope and its `data`
            schema = {**typed["properties"]["data"], "components": self.components}
            data = response.json()["data"]
        else:  # /v1: the declared TypedDict is the answer itself
            assert answer["schema"]["$ref"], f"{method.upper()} {path} declares no answer"
            schema = {**answer["schema"], "components": self.components}
            data = response.json()
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(data)
        ]
        assert not errors, f"{method.upper()} {path} answers off the document: {errors[:5]}"
        return data  # type: ignore[no-any-return]


async def test_the_battle_map_answers_are_the_documented_ones_for_the_dm_and_a_player(server: LiveServer):
    dm, (player, _), session_id, cellar, tokens = await battle(server)
    documented = Documented((await dm.get("/api/openapi.json")).json())
    map_id = cellar["map_id"]
    maps = "/api/session/maps"
    goblin = await spawn_goblin(dm, session_id)
    add = {"map_id": map_id, "monster_instance_id": goblin["instance_id"], "x_position": 25, "y_position": 75}
    documented.check(await dm.post(f"{maps}/tokens/add.php", add), f"{maps}/tokens/add.php", "post")
    documented.check(await dm.post(f"{maps}/tokens/add.php", {**add, "hidden": True}), f"{maps}/tokens/add.php", "post")
    reveal = {"map_id": map_id, "cells": [[0, 0], [1, 0], [1, 1]]}
    documented.check(await dm.post(f"{maps}/fog/reveal.php", reveal), f"{maps}/fog/reveal.php", "post")
    polygon = {"map_id": map_id, "polygon": [[0, 0], [120, 0], [120, 120], [0, 120]]}
    documented.check(await dm.post(f"{maps}/fog/reveal.php", polygon), f"{maps}/fog/reveal.php", "post")
    hide = {"map_id": map_id, "cells": [[1, 1]]}
    documented.check(await dm.post(f"{maps}/fog/hide.php", hide), f"{maps}/fog/hide.php", "post")
    stroke = {"map_id": map_id, "drawing_type": "stroke", "path_data": [[1, 2], [3.5, 4]]}
    documented.check(await player.post(f"{maps}/drawings/add.php", stroke), f"{maps}/drawings/add.php", "post")
    move = {"token_id": tokens[0]["token_id"], "x_position": 30, "y_position": 30}
    documented.check(await player.send("PUT", f"{maps}/tokens/move.php", move), f"{maps}/tokens/move.php", "put")
    documented.check(await dm.send("PUT", f"{maps}/tokens/move.php", move), f"{maps}/tokens/move.php", "put")
    change = {"token_id": tokens[1]["token_id"], "label": "Sir Fighter", "hidden": False}
    documented.check(await dm.send("PUT", f"{maps}/tokens/update.php", change), f"{maps}/tokens/update.php", "put")
    for viewer in (dm, player):
        scene = documented.check(await viewer.get(f"{maps}/get.php", map_id=map_id), f"{maps}/get.php")
        assert scene["tokens"] and scene["drawings"] and scene["revealed_cells"]
        listed = documented.check(await viewer.get(f"{maps}/tokens/list.php", map_id=map_id), f"{maps}/tokens/list.php")
        assert any(token["monster"] for token in listed["tokens"])
        documented.check(await viewer.get(f"{maps}/list.php", session_id=session_id), f"{maps}/list.php")
        documented.check(await viewer.get(f"{maps}/drawings/get.php", map_id=map_id), f"{maps}/drawings/get.php")
    renamed = {"map_id": map_id, "map_name": "Cellar, flooded", "grid_offset_x": 5}
    documented.check(await dm.send("PUT", f"{maps}/update.php", renamed), f"{maps}/update.php", "put")
    documented.check(
        await dm.post(f"{maps}/drawings/clear.php", {"map_id": map_id}), f"{maps}/drawings/clear.php", "post"
    )
    documented.check(await dm.post(f"{maps}/fog/reset.php", {"map_id": map_id}), f"{maps}/fog/reset.php", "post")
    gone = await dm.send("DELETE", f"{maps}/tokens/delete.php?token_id={tokens[1]['token_id']}")
    documented.check(gone, f"{maps}/tokens/delete.php", "delete")
    documented.check(await dm.send("DELETE", f"{maps}/delete.php?map_id={map_id}"), f"{maps}/delete.php", "delete")


async def test_the_table_answers_are_the_documented_ones_for_the_dm_and_players(server: LiveServer):
    dm, (player, other), session_id, cellar, tokens = await battle(server)
    documented = Documented((await dm.get("/api/openapi.json")).json())
    goblin = await spawn_goblin(dm, session_id)
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": cellar["map_id"], "cells": [[0, 0], [1, 0]]})
    for viewer in (dm, player):
        table = documented.check(
            await viewer.get("/api/session/snapshot.php", session_id=session_id), "/api/session/snapshot.php"
        )
        assert table["map"]["revealed_runs"] and table["characters"] and table["monster_instances"]
        listed = "/api/monsters/list-instances.php"
        documented.check(await viewer.get(listed, session_id=session_id), listed)
        documented.check(await viewer.get("/api/character/list.php", session_id=session_id), "/api/character/list.php")
    character_id = tokens[0]["character_id"]
    for viewer, view in ((player, "full"), (other, "party"), (dm, "full")):
        seen = documented.check(
            await viewer.get("/api/character/get.php", character_id=character_id), "/api/character/get.php"
        )
        assert seen["view"] == view
    edit = {"instance_id": goblin["instance_id"], "notes": "hates dwarves", "dexterity": None}
    documented.check(
        await dm.post("/api/monsters/update-instance.php", edit), "/api/monsters/update-instance.php", "post"
    )
    removal = {"instance_id": goblin["instance_id"]}
    documented.check(
        await dm.post("/api/monsters/delete-instance.php", removal), "/api/monsters/delete-instance.php", "post"
    )


async def test_dice_and_chat_answers_are_the_documented_ones_in_every_visibility(server: LiveServer):
    dm, (player, other), session_id, _, tokens = await battle(server)
    documented = Documented((await dm.get("/api/openapi.json")).json())
    goblin = await spawn_goblin(dm, session_id)
    roll = {"session_id": session_id, "expression": "4d6kh3+1", "label": "Strength"}
    for visibility in ("public", "dm", "blind", "self", {"whisper_to": [other.user_id]}):
        rolled = documented.check(
            await player.post("/api/dice/roll.php", {**roll, "visibility": visibility}), "/api/dice/roll.php", "post"
        )
        assert ("total" in rolled) == (visibility != "blind")  # a blind roll's roller learns no number
    damage = {**roll, "expression": "1d4", "apply_damage_to": {"monster_instance_id": goblin["instance_id"]}}
    dealt = documented.check(await dm.post("/api/dice/roll.php", damage), "/api/dice/roll.php", "post")
    assert dealt["applied"]["instance_id"] == goblin["instance_id"]
    hurt = {**damage, "apply_damage_to": {"character_id": tokens[0]["character_id"]}}
    documented.check(await dm.post("/api/dice/roll.php", hurt), "/api/dice/roll.php", "post")
    said = {"session_id": session_id, "text": "I search the alcove", "as_character_id": tokens[0]["character_id"]}
    message = documented.check(await player.post("/api/chat/send.php", said), "/api/chat/send.php", "post")
    whisper = {"session_id": session_id, "text": "psst", "to": [dm.user_id]}
    documented.check(await player.post("/api/chat/send.php", whisper), "/api/chat/send.php", "post")
    for viewer in (dm, player, other):
        rolls = documented.check(
            await viewer.get("/api/dice/history.php", session_id=session_id), "/api/dice/history.php"
        )
        assert rolls["rolls"]
        documented.check(await viewer.get("/api/chat/history.php", session_id=session_id), "/api/chat/history.php")
    gone = {"session_id": session_id, "message_id": message["message_id"]}
    documented.check(await dm.post("/api/chat/delete.php", gone), "/api/chat/delete.php", "post")


async def test_lists_of_sessions_monsters_and_items_and_the_dashboard_are_the_documented_ones(server: LiveServer):
    dm, (player, _), session_id, _, _ = await battle(server)
    documented = Documented((await dm.get("/api/openapi.json")).json())
    goblin = await spawn_goblin(dm, session_id)
    fighter = {"session_id": session_id, "monster_instance_id": goblin["instance_id"]}
    await dm.ok("/api/combat/add-monster.php", fighter)
    for viewer in (dm, player):
        sessions = documented.check(await viewer.get("/api/session/list.php"), "/api/session/list.php")
        assert sessions["sessions"][0]["session_id"] == session_id
    dashboard = "/api/session/get-dm-dashboard.php"
    assert documented.check(await dm.get(dashboard, session_id=session_id), dashboard)["initiative"]
    found = documented.check(await player.get("/api/monsters/list.php", search="orc"), "/api/monsters/list.php")
    monster_id = found["monsters"][0]["monster_id"]
    documented.check(await player.get("/api/monsters/get.php", monster_id=monster_id), "/api/monsters/get.php")
    documented.check(await player.get("/api/items/list.php", limit=100), "/api/items/list.php")


async def test_login_health_poll_and_upload_answers_are_the_documented_ones(server: LiveServer):
    dm, _, session_id = await game_table(server, players=1)
    documented = Documented((await dm.get("/api/openapi.json")).json())
    newcomer = Client(server)
    fields = {"username": "documented", "email": "documented@example.com", "password": PASSWORD}
    documented.check(await newcomer.post("/api/auth/register.php", fields), "/api/auth/register.php", "post")
    login = {"username": "documented", "password": PASSWORD}
    documented.check(await newcomer.post("/api/auth/login.php", login), "/api/auth/login.php", "post")
    assert documented.check(await newcomer.get("/api/auth/verify.php"), "/api/auth/verify.php")["authenticated"]
    documented.check(await newcomer.post("/api/auth/logout.php"), "/api/auth/logout.php", "post")
    assert not documented.check(await newcomer.get("/api/auth/verify.php"), "/api/auth/verify.php")["user"]
    documented.check(await dm.get("/api/health"), "/api/health")
    await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 40})
    poll = await dm.get("/api/realtime/poll.php", session_id=session_id, last_event_id=0, timeout=0)
    assert documented.check(poll, "/api/realtime/poll.php")["events"]
    image = {"file": ("cellar.png", map_image(), "image/png")}
    upload = await dm.post("/api/forum/posts/upload-image.php", files=image)
    documented.check(upload, "/api/forum/posts/upload-image.php", "post")
    await newcomer.aclose()
