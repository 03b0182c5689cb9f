"""The API document at /api/openapi.json: a valid OpenAPI 3.1 document that describes every route the
server has, and the readable page at /api/docs, served without any CDN."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server.api.openapi import error_statuses
from server.api.routes import ENDPOINTS
from tests.live import LiveServer, game_table


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
