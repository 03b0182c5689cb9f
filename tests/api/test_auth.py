"""Accounts and login sessions over real HTTP against a real database file."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.live import PASSWORD, Client, LiveServer


async def register(client: Client, **fields: str):
    body = {"username": "gandalf", "email": "gandalf@example.com", "password": PASSWORD, **fields}
    return await client.http.post("/api/auth/register.php", json=body)


async def test_register_then_login_by_username_and_email_in_any_case(clients):
    response = await register(clients(), username="Gandalf_the-Grey", email="Gandalf@Example.com")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["username"] == "Gandalf_the-Grey" and data["csrf_token"]
    for identifier in ("gandalf_the-grey", "GANDALF_THE-GREY", "gandalf@example.com", "GANDALF@EXAMPLE.COM"):
        response = await clients().login(identifier)
        assert response.status_code == 200, identifier
        body = response.json()
        assert body["status"] == "success" and body["message"] == "Login successful"
        assert body["data"]["user_id"] == data["user_id"]
        assert body["data"]["is_moderator"] is False
        assert body["data"]["csrf_token"]
        cookie = response.headers["set-cookie"]
        assert "sessionToken=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),
        ("username", "a" * 51),
        ("username", "bad name"),
        ("username", "bad!name"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("password", "short77"),
    ],
)
async def test_registration_rejects_each_invalid_field(clients, field, value):
    response = await register(clients(), **{field: value})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error" and body["error"] == "validation_failed"
    assert list(body["errors"]) == [field]


@pytest.mark.parametrize(("field", "value"), [("username", "abc"), ("username", "a" * 50), ("password", "8chars!!")])
async def test_registration_accepts_the_edges(clients, field, value):
    response = await register(clients(), **{field: value})
    assert response.status_code == 200, response.text


async def test_duplicates_are_rejected_per_field_in_any_case(clients):
    assert (await register(clients())).status_code == 200
    response = await register(clients(), username="GANDALF", email="other@example.com")
    assert response.status_code == 400 and response.json()["errors"] == {"username": "Username is already taken"}
    response = await register(clients(), username="other", email="GANDALF@example.com")
    assert response.status_code == 400 and response.json()["errors"] == {"email": "Email is already registered"}


async def test_wrong_password_unknown_user_and_inactive_user_get_the_same_answer(server: LiveServer, clients):
    await register(clients())
    from server import accounts

    await accounts.create_user(server.services.db, "sleeper", "sleeper@example.com", PASSWORD, is_active=False)
    answers = [
        await clients().login("gandalf", "wrong password"),
        await clients().login("nobody", PASSWORD),
        await clients().login("sleeper", PASSWORD),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.json() == {
            "status": "error",
            "message": "Invalid username/email or password",
            "error": "authentication_required",
        }
        assert "set-cookie" not in response.headers


async def test_the_sixteenth_login_attempt_is_refused_with_retry_after(clients):
    client = clients()
    for _ in range(15):
        assert (await client.login("nobody", "whatever")).status_code == 401
    response = await client.login("nobody", "whatever")
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limit_exceeded"
    assert 1 <= int(response.headers["retry-after"]) <= 300


async def test_rate_limit_is_configurable_and_counts_registrations_separately(tmp_path, settings):
    server = await LiveServer(dataclasses.replace(settings, rate_limit_attempts=2, rate_limit_window=60)).start()
    client = Client(server)
    try:
        assert (await client.login("x", "y")).status_code == 401
        assert (await client.login("x", "y")).status_code == 401
        assert (await client.login("x", "y")).status_code == 429
        assert (await register(client)).status_code == 200
        assert (await register(client, username="second", email="s@example.com")).status_code == 200
        assert (await register(client, username="third", email="t@example.com")).status_code == 429
    finally:
        await client.aclose()
        await server.stop()


async def test_forwarded_for_is_ignored_unless_trusted(settings):
    for trusted, expected_third in ((False, 429), (True, 401)):
        server = await LiveServer(
            dataclasses.replace(settings, rate_limit_attempts=2, trust_forwarded_for=trusted)
        ).start()
        client = Client(server)
        try:
            for n in range(3):
                response = await client.http.post(
                    "/api/auth/login.php",
                    json={"username": "x", "password": "y"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
            assert response.status_code == expected_third
        finally:
            await client.aclose()
            await server.stop()


async def test_csrf_missing_wrong_and_right(clients):
    client = await clients().register()
    body = {"session_title": "Night one", "session_datetime": "2099-01-01 20:00:00"}
    missing = await client.http.post("/api/session/create.php", json=body)
    wrong = await client.http.post("/api/session/create.php", json=body, headers={"X-CSRF-Token": "forged"})
    right = await client.post("/api/session/create.php", body)
    assert missing.status_code == 403 and missing.json()["error"] == "csrf_token_invalid"
    assert wrong.status_code == 403
    assert right.status_code == 200


async def test_verify_works_logged_out_and_in(clients):
    client = clients()
    anonymous = (await client.get("/api/auth/verify.php")).json()["data"]
    assert anonymous == {"authenticated": False, "user": None, "csrf_token": None}
    await client.register("frodo")
    data = (await client.get("/api/auth/verify.php")).json()["data"]
    assert data["authenticated"] is True and data["user"]["username"] == "frodo"
    assert data["csrf_token"] == client.csrf


async def test_logout_ends_the_session_even_for_a_stolen_cookie(clients):
    client = await clients().register()
    token = client.http.cookies["sessionToken"]
    response = await client.post("/api/auth/logout.php")
    assert response.status_code == 200
    thief = clients()
    thief.http.cookies.set("sessionToken", token)
    data = (await thief.get("/api/auth/verify.php")).json()["data"]
    assert data["authenticated"] is False
    denied = await thief.http.post("/api/session/create.php", json={}, headers={"X-CSRF-Token": client.csrf or ""})
    assert denied.status_code == 401


async def test_logout_needs_the_csrf_token(clients):
    client = await clients().register()
    response = await client.http.post("/api/auth/logout.php")
    assert response.status_code == 403
    assert (await client.get("/api/auth/verify.php")).json()["data"]["authenticated"] is True


async def test_a_cookie_from_before_a_restart_is_still_valid_after_it(server: LiveServer, clients):
    client = await clients().register("samwise")
    await server.restart()
    client.http.base_url = server.url  # same port, but be explicit
    data = (await client.get("/api/auth/verify.php")).json()["data"]
    assert data["authenticated"] is True and data["user"]["username"] == "samwise"
    assert (
        await client.post("/api/session/create.php", {"session_title": "t", "session_datetime": "2099-01-01 20:00:00"})
    ).status_code == 200


async def test_expired_sessions_end(settings):
    server = await LiveServer(dataclasses.replace(settings, session_lifetime=60)).start()
    client = await Client(server).register()
    try:
        db = server.services.db
        async with db.transaction() as tx:
            await tx.execute("UPDATE login_sessions SET expires_at = expires_at - 61")
        assert (await client.get("/api/auth/verify.php")).json()["data"]["authenticated"] is False
    finally:
        await client.aclose()
        await server.stop()


async def test_session_tokens_are_stored_hashed(server: LiveServer, clients):
    client = await clients().register()
    token = client.http.cookies["sessionToken"]
    rows = await server.services.db.fetch_all("SELECT token_hash FROM login_sessions")
    assert rows and all(token not in row["token_hash"] for row in rows)


async def test_passwords_are_stored_as_argon2id(server: LiveServer, clients):
    await clients().register("pippin")
    stored = await server.services.db.fetch_val("SELECT password_hash FROM users WHERE username = 'pippin'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_concurrent_registrations_of_one_name_create_one_account(clients):
    answers = await asyncio.gather(*(register(clients()) for _ in range(5)))
    assert sorted(response.status_code for response in answers) == [200, 400, 400, 400, 400]


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy_only(settings):
    body = {"username": "gandalf", "email": "gandalf@example.com", "password": PASSWORD}
    for trusted, secure in ((False, False), (True, True)):
        server = await LiveServer(dataclasses.replace(settings, trust_forwarded_for=trusted)).start()
        client = Client(server)
        try:
            response = await client.http.post(
                "/api/auth/register.php" if not trusted else "/api/auth/login.php",
                json=body,
                headers={"X-Forwarded-Proto": "https"},
            )
            assert response.status_code == 200, response.text
            assert ("secure" in response.headers["set-cookie"].lower()) is secure
        finally:
            await server.stop()
