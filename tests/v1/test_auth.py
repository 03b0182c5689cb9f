"""/v1/auth and the three ways to authenticate (bearer token, API key, cookie), over real HTTP."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from tests.live import PASSWORD, Client, LiveServer, game_table
from tests.v1.conftest import login


async def test_login_by_username_or_email_answers_a_token_with_its_expiry_and_sets_the_cookie(server, clients):
    browser = await clients().register("Mordenkainen")
    for identifier in ("mordenkainen", "MORDENKAINEN@example.com"):
        response = await login(server.url, identifier)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer" and body["token"] and body["csrf_token"]
        assert body["expires_at"].endswith("Z")
        assert body["user"]["id"] == browser.user_id and body["user"]["username"] == "Mordenkainen"
        assert f"sessionToken={body['token']}" in response.headers["set-cookie"]
        assert response.headers["x-ratelimit-limit"] == "1000"


async def test_a_wrong_password_is_401_in_the_platform_error_format(server, clients):
    await clients().register("Tenser")
    response = await login(server.url, "Tenser", "wrong password")
    assert response.status_code == 401
    assert response.json() == {
        "error": "authentication_required",
        "message": "Invalid username/email or password",
        "details": [],
    }


async def test_validation_errors_list_each_field_with_a_code(server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await anonymous.post("/v1/auth/login", json={"password": "x" * 2000})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_failed" and body["message"] == "Validation failed"
    assert {(d["field"], d["code"]) for d in body["details"]} == {("identifier", "required"), ("password", "too_long")}


async def test_unknown_v1_path_and_wrong_method_answer_in_the_platform_format(server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        missing = await anonymous.get("/v1/no/such/thing")
        wrong = await anonymous.get("/v1/auth/login")
    assert missing.status_code == 404 and missing.json()["error"] == "resource_not_found"
    assert missing.json()["details"] == [] and "x-ratelimit-remaining" not in missing.headers  # not counted
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.json()["error"] == "method_not_allowed"


async def test_no_credentials_or_a_bad_bearer_is_401(server, accounts):
    account = await accounts()
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/v1/users/me")).status_code == 401
        bad = await anonymous.get("/v1/users/me", headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401 and bad.json()["error"] == "authentication_required"
        # A bad bearer is not rescued by a good cookie.
        anonymous.cookies.set("sessionToken", account.token)
        assert (await anonymous.get("/v1/users/me", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_a_bearer_needs_no_csrf_token_but_the_cookie_does(server, accounts):
    account = await accounts()
    bearer = await account.api.patch("/v1/users/me", json={"display_name": "By bearer"})
    assert bearer.status_code == 200 and bearer.json()["display_name"] == "By bearer"
    async with httpx.AsyncClient(base_url=server.url) as browser:
        browser.cookies.set("sessionToken", account.token)
        assert (await browser.get("/v1/users/me")).status_code == 200
        refused = await browser.patch("/v1/users/me", json={"display_name": "By cookie"})
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_token_invalid"
        allowed = await browser.patch(
            "/v1/users/me", json={"display_name": "By cookie"}, headers={"X-CSRF-Token": account.csrf}
        )
        assert allowed.status_code == 200 and allowed.json()["display_name"] == "By cookie"


async def test_logout_ends_the_token_at_once(accounts):
    account = await accounts()
    response = await account.api.post("/v1/auth/logout")
    assert response.status_code == 204
    assert (await account.api.get("/v1/users/me")).status_code == 401


async def test_refresh_gives_a_new_token_and_ends_the_old_one(accounts):
    account = await accounts()
    response = await account.api.post("/v1/auth/refresh")
    assert response.status_code == 200
    fresh = response.json()["token"]
    assert fresh != account.token
    assert (await account.api.get("/v1/users/me")).status_code == 401
    assert (await account.api.get("/v1/users/me", headers=account.bearer(fresh))).status_code == 200


async def test_the_legacy_api_takes_a_bearer_without_csrf_and_keeps_its_envelope(server: LiveServer, accounts):
    account = await accounts()
    created = await account.api.post(
        "/api/session/create.php", json={"session_title": "By bearer", "session_datetime": "2099-01-01 19:00:00"}
    )
    assert created.status_code == 200 and created.json()["status"] == "success"
    listed = await account.api.get("/api/session/list.php")
    assert listed.json()["data"]["sessions"][0]["session_title"] == "By bearer"
    assert "x-ratelimit-limit" not in listed.headers  # the quota is the platform API's
    refused = await account.api.get("/api/session/list.php", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.json()["status"] == "error"


async def test_the_websocket_takes_a_bearer_header(server: LiveServer, accounts):
    from websockets.asyncio.client import connect

    dm, _, session_id = await game_table(server, players=0)
    assert dm.user is not None
    response = await login(server.url, dm.user["username"], PASSWORD)
    url = f"ws://127.0.0.1:{server.port}/api/realtime/ws?session_id={session_id}"
    async with connect(url, additional_headers={"Authorization": f"Bearer {response.json()['token']}"}) as socket:
        import json

        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello" and hello["role"] == "dm"


@pytest.mark.parametrize("how", ["bearer", "api_key", "cookie"])
async def test_each_way_of_authenticating_reaches_the_same_user(server, accounts, how):
    account = await accounts()
    headers: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=server.url) as other:
        if how == "bearer":
            headers = account.bearer()
        elif how == "api_key":
            key = (await account.api.post("/v1/api-keys", json={"name": "bot"})).json()["key"]
            headers = account.bearer(key)
        else:
            other.cookies.set("sessionToken", account.token)
        response = await other.get("/v1/users/me", headers=headers)
    assert response.status_code == 200 and response.json()["id"] == account.user_id


async def test_legacy_login_still_works_beside_v1(clients):
    browser: Client = await clients().register()
    assert browser.user is not None
    assert (await clients().login(browser.user["username"])).status_code == 200
