"""The hottest POSTs skip Starlette's routing and middleware (server/api/hot_routes.py): the same request
answered that way and through the router gets the same status, headers and body, on success and on every
error a client can cause; the latency histogram and the access log see it as any other route."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from server.api.routes import ENDPOINTS
from tests.live import FIGHTER, Client, LiveServer, game_table, spawn

CHARACTER = "/api/character/update-hp.php"
MONSTER = "/api/monsters/update-hp.php"


class Routed:
    """The same app, but every request through Starlette's middleware and router."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await Starlette.__call__(self.app, scope, receive, send)


@pytest.fixture
async def both(server: LiveServer) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    lean = httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://127.0.0.1")
    routed = httpx.AsyncClient(transport=httpx.ASGITransport(app=Routed(server.app)), base_url="http://127.0.0.1")
    yield lean, routed
    await lean.aclose()
    await routed.aclose()


async def _same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    client: Client | None,
    path: str,
    *,
    csrf: str | None = "mine",
    headers: dict[str, str] | None = None,
    **request: Any,
) -> httpx.Response:
    """POST both ways as `client` (its cookie, and its CSRF token unless `csrf` says otherwise): the
    answers must be the same."""
    sent = dict(headers or {})
    if client is not None and csrf is not None:
        sent["X-CSRF-Token"] = client.csrf if csrf == "mine" else csrf  # type: ignore[assignment]
    answers = []
    for way in both:
        way.cookies = client.http.cookies if client is not None else httpx.Cookies()
        answers.append(await way.post(path, headers=sent, **request))
    lean, routed = answers
    assert (lean.status_code, lean.headers.multi_items(), lean.content) == (
        routed.status_code,
        routed.headers.multi_items(),
        routed.content,
    )
    return lean


def test_only_the_update_hp_posts_take_the_lean_path(server: LiveServer):
    app: Any = server.app
    taken = {path for path, _ in ENDPOINTS if app.hot_routes.app_for({"type": "http", "method": "POST", "path": path})}
    assert taken == {CHARACTER, MONSTER}
    assert app.hot_routes.app_for({"type": "http", "method": "GET", "path": CHARACTER}) is None
    assert app.hot_routes.app_for({"type": "websocket", "path": CHARACTER}) is None


async def test_character_update_hp_answers_alike_both_ways(server: LiveServer, both):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    cid = character["character_id"]
    stranger = await Client(server).register()

    healed = await _same(both, player, CHARACTER, json={"character_id": cid, "healing": 1})  # at full HP: no change
    assert healed.status_code == 200 and healed.json()["data"]["current_hp"] == character["max_hp"]
    assert healed.headers["content-type"] == "application/json; charset=utf-8"
    assert (await _same(both, dm, CHARACTER, json={"character_id": cid, "healing": 1})).status_code == 200

    hurt = {"json": {"character_id": cid, "damage": 1}}
    refused: list[tuple[Client | None, dict[str, Any], int]] = [
        (None, hurt, 401),  # no cookie
        (player, {**hurt, "csrf": None}, 403),
        (player, {**hurt, "csrf": "not-the-token"}, 403),
        (stranger, hurt, 403),  # neither the owner nor the DM
        (player, {"json": {"character_id": 999_999, "damage": 1}}, 404),
        (player, {"json": {"character_id": cid}}, 400),  # no effect
        (player, {"json": {"character_id": cid, "damage": -1}}, 400),
        (player, {"json": {"character_id": "x", "damage": 1}}, 400),
        (player, {"json": [1, 2]}, 400),
        (player, {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        (player, {"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
        (player, {"content": b"{" + b" " * server.settings.max_body_size + b"}"}, 413),
    ]
    for client, request, status in refused:
        answer = await _same(both, client, CHARACTER, **request)
        assert answer.status_code == status, (request, answer.text)
        assert answer.json()["status"] == "error" and answer.json()["error"]
    for way in both:
        way.cookies = player.http.cookies
        assert (await way.get(CHARACTER)).status_code == 405  # not a POST: the router answers


async def test_monster_update_hp_answers_alike_both_ways(server: LiveServer, both):
    dm, (player,), session_id = await game_table(server, players=1)
    goblin = await spawn(dm, session_id)
    iid = goblin["instances"][0]["instance_id"]
    assert (await _same(both, dm, MONSTER, json={"instance_id": iid, "healing": 1})).status_code == 200
    assert (await _same(both, player, MONSTER, json={"instance_id": iid, "damage": 1})).status_code == 403
    assert (await _same(both, dm, MONSTER, json={"instance_id": 999_999, "damage": 1})).status_code == 404


async def test_the_lean_path_is_timed_and_logged_by_its_route(settings, caplog):
    server = await LiveServer(dataclasses.replace(settings, access_log=True)).start()
    try:
        dm, (player,), session_id = await game_table(server, players=1)
        character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
        body = {"character_id": character["character_id"], "damage": 1}
        with caplog.at_level("INFO", logger="server.request"):
            assert (await player.post(CHARACTER, body)).status_code == 200
            assert (await player.http.post(CHARACTER, json=body)).status_code == 403  # no CSRF header
        metrics = (await dm.get("/metrics")).text
    finally:
        await server.stop()
    lines = [
        (r.route, r.method, r.status, r.user_id)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "server.request" and r.route == CHARACTER  # type: ignore[attr-defined]
    ]
    assert lines == [(CHARACTER, "POST", 200, player.user_id), (CHARACTER, "POST", 403, player.user_id)]
    for status in (200, 403):
        assert f'route="{CHARACTER}",status="{status}"' in metrics.replace('method="POST",', "")
