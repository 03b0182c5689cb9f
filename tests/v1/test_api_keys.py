"""/v1/api-keys: shown once, listed by prefix, hashed at rest, usable as a bearer, scoped, revocable."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from server import api_keys
from tests.live import LiveServer


async def test_a_key_is_shown_once_and_listed_by_its_prefix(server: LiveServer, accounts):
    account = await accounts()
    response = await account.api.post("/v1/api-keys", json={"name": "Initiative bot", "scope": "read"})
    assert response.status_code == 201
    key = response.json()
    assert response.headers["location"] == f"/v1/api-keys/{key['id']}"
    assert key["key"].startswith("vtt_live_") and len(key["key"]) > 40
    assert key["prefix"] == key["key"][:17] and key["scopes"] == ["read"]
    listed = (await account.api.get("/v1/api-keys")).json()
    assert listed["object"] == "list" and listed["pagination"]["total"] == 1
    (shown,) = listed["data"]
    assert "key" not in shown and shown["name"] == "Initiative bot" and shown["last_used_at"] is None
    assert shown["created_at"].endswith("Z")
    stored = await server.services.db.fetch_one("SELECT key_hash FROM api_keys WHERE key_id = :id", {"id": key["id"]})
    assert stored["key_hash"] == hashlib.sha256(key["key"].encode()).hexdigest()
    await account.api.get("/v1/users/me", headers=account.bearer(key["key"]))
    (used,) = (await account.api.get("/v1/api-keys")).json()["data"]
    assert used["last_used_at"] is not None


async def test_a_read_key_cannot_write_and_a_write_key_can(accounts):
    account = await accounts()
    read = (await account.api.post("/v1/api-keys", json={"name": "reader", "scope": "read"})).json()["key"]
    write = (await account.api.post("/v1/api-keys", json={"name": "writer"})).json()["key"]
    assert (await account.api.get("/v1/users/me", headers=account.bearer(read))).status_code == 200
    refused = await account.api.patch("/v1/users/me", json={"display_name": "x"}, headers=account.bearer(read))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_permissions"
    legacy = await account.api.post(
        "/api/session/create.php",
        json={"session_title": "t", "session_datetime": "2099-01-01 19:00:00"},
        headers=account.bearer(read),
    )
    assert legacy.status_code == 403 and legacy.json()["status"] == "error"
    allowed = await account.api.patch("/v1/users/me", json={"display_name": "x"}, headers=account.bearer(write))
    assert allowed.status_code == 200


async def test_a_revoked_key_is_refused_and_another_users_key_is_404(accounts):
    owner, stranger = await accounts(), await accounts()
    created = (await owner.api.post("/v1/api-keys", json={"name": "temp"})).json()
    assert (await stranger.api.delete(f"/v1/api-keys/{created['id']}")).status_code == 404
    revoked = await owner.api.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await owner.api.get("/v1/users/me", headers=owner.bearer(created["key"]))).status_code == 401
    for bad in ("0", "abc", "99999999999", "٣"):
        assert (await owner.api.delete(f"/v1/api-keys/{bad}")).status_code == 404


async def test_an_api_key_cannot_log_out_or_refresh(accounts):
    account = await accounts()
    key = (await account.api.post("/v1/api-keys", json={"name": "bot"})).json()["key"]
    for path in ("/v1/auth/logout", "/v1/auth/refresh"):
        response = await account.api.post(path, headers=account.bearer(key))
        assert response.status_code == 400 and response.json()["error"] == "bad_request"


async def test_at_most_25_keys_are_active_and_a_revoked_one_frees_a_place(accounts):
    account = await accounts()
    ids = []
    for number in range(api_keys.MAX_ACTIVE_KEYS):
        response = await account.api.post("/v1/api-keys", json={"name": f"key {number}"})
        assert response.status_code == 201
        ids.append(response.json()["id"])
    refused = await account.api.post("/v1/api-keys", json={"name": "one too many"})
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "name"
    await account.api.delete(f"/v1/api-keys/{ids[0]}")
    assert (await account.api.post("/v1/api-keys", json={"name": "replacement"})).status_code == 201


async def test_key_fields_are_validated(accounts):
    account = await accounts()
    response = await account.api.post("/v1/api-keys", json={"name": "", "scope": "admin"})
    assert response.status_code == 400
    assert {(d["field"], d["code"]) for d in response.json()["details"]} == {
        ("name", "too_short"),
        ("scope", "invalid_choice"),
    }


async def test_revoking_a_key_closes_the_sockets_opened_with_it(server: LiveServer, accounts):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    account = await accounts()
    created = await account.api.post(
        "/api/session/create.php", json={"session_title": "Keyed", "session_datetime": "2099-01-01 19:00:00"}
    )
    session_id = created.json()["data"]["session_id"]
    key = (await account.api.post("/v1/api-keys", json={"name": "bot", "scope": "read"})).json()
    url = f"ws://127.0.0.1:{server.port}/api/realtime/ws?session_id={session_id}"
    async with connect(url, additional_headers=account.bearer(key["key"])) as socket:
        assert '"hello"' in await socket.recv()
        await account.api.delete(f"/v1/api-keys/{key['id']}")
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
