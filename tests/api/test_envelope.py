"""Every client error answers in the documented envelope with the right status; none is a 500."""

from __future__ import annotations

import pytest


async def test_unknown_path_is_404_in_the_envelope(clients):
    response = await clients().get("/api/no/such/thing.php")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Endpoint not found", "error": "resource_not_found"}


async def test_wrong_method_is_405_with_allow(clients):
    response = await clients().http.get("/api/auth/login.php")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b'{"username": }'])
async def test_malformed_json_is_400(clients, body):
    response = await clients().http.post(
        "/api/auth/login.php", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "error" and response.json()["message"] == "Request body is not valid JSON"


async def test_a_json_value_that_is_not_an_object_is_400(clients):
    response = await clients().http.post("/api/auth/login.php", json=[1, 2, 3])
    assert response.status_code == 400 and response.json()["error"] == "bad_request"


async def test_wrong_content_type_is_415(clients):
    response = await clients().http.post(
        "/api/auth/login.php",
        content=b"username=a&password=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"


async def test_oversized_body_is_413_declared_or_streamed(clients):
    big = b'{"username": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    response = await clients().http.post(
        "/api/auth/login.php", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"

    async def chunks():
        for _ in range(20):
            yield b" " * 100_000

    response = await clients().http.post(
        "/api/auth/login.php", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_wrong_types_are_validation_errors_not_500(clients):
    client = await clients().register()
    response = await client.post("/api/character/update-hp.php", {"character_id": "seven", "damage": [1]})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"character_id", "damage"}


async def test_health_reports_the_database(clients):
    response = await clients().get("/api/health")
    assert response.status_code == 200
    assert response.json()["data"]["database"] == "sqlite"


@pytest.mark.parametrize("number", [2**31, 2**40, -(2**40), 10**30])
async def test_numbers_beyond_the_database_are_400_not_500(clients, number):
    client = await clients().register()
    for path, body in (
        ("/api/character/update-hp.php", {"character_id": number, "damage": 1}),
        ("/api/audio/control.php", {"session_id": number, "action": "stop"}),
        ("/api/character/grant-xp.php", {"session_id": 1, "character_ids": [1, number], "xp_amount": 5}),
    ):
        response = await client.post(path, body)
        assert response.status_code == 400, (path, response.text)
    poll = await client.get("/api/realtime/poll.php", session_id=number, timeout=0)
    assert poll.status_code == 400 and "session_id" in poll.json()["errors"]
