"""The plan's request quota on /v1: headers on every answer, 429 beyond the burst, counted per user or
API key (one process, memory counts)."""

from __future__ import annotations

import time

from server import profiles
from tests.live import LiveServer


async def test_headers_count_down_and_the_51st_request_in_a_minute_is_429(accounts):
    account = await accounts()
    before = time.time()
    for number in range(1, 51):
        response = await account.api.get("/v1/users/me")
        assert response.status_code == 200, number
        assert response.headers["x-ratelimit-limit"] == "1000"
        assert response.headers["x-ratelimit-remaining"] == str(1000 - number)
        assert response.headers["x-ratelimit-burst-limit"] == "50"
        assert response.headers["x-ratelimit-burst-remaining"] == str(50 - number)
        reset = int(response.headers["x-ratelimit-reset"])
        assert before + 3600 - 1 <= reset <= time.time() + 3600 + 1
    refused = await account.api.get("/v1/users/me")
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limit_exceeded" and refused.json()["details"] == []
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-burst-remaining"] == "0"
    # The refused request did not spend the hourly quota.
    assert refused.headers["x-ratelimit-remaining"] == "950"


async def test_each_api_key_counts_apart_from_its_user_and_other_users(accounts):
    account, other = await accounts(), await accounts()
    key = (await account.api.post("/v1/api-keys", json={"name": "bot"})).json()["key"]
    for _ in range(49):
        assert (await account.api.get("/v1/users/me")).status_code == 200
    assert (await account.api.get("/v1/users/me")).status_code == 429
    by_key = await account.api.get("/v1/users/me", headers=account.bearer(key))
    assert by_key.status_code == 200 and by_key.headers["x-ratelimit-burst-remaining"] == "49"
    assert (await other.api.get("/v1/users/me")).headers["x-ratelimit-burst-remaining"] == "49"


async def test_the_plan_sets_the_limits(server: LiveServer, accounts):
    account = await accounts()
    await profiles.set_plan(server.services.db, account.username, "premium")
    response = await account.api.get("/v1/users/me")
    assert response.json()["plan"] == "premium"
    assert response.headers["x-ratelimit-limit"] == "50000"
    assert response.headers["x-ratelimit-burst-limit"] == "500"


async def test_errors_carry_the_headers_too(accounts):
    account = await accounts()
    response = await account.api.get("/v1/api-keys/1")
    assert response.status_code == 405 and response.headers["x-ratelimit-remaining"] == "999"


async def test_requests_without_credentials_are_not_counted_but_logins_are(server: LiveServer, accounts):
    import httpx2 as httpx

    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for _ in range(60):
            refused = await anonymous.get("/v1/users/me")
            assert refused.status_code == 401 and "x-ratelimit-limit" not in refused.headers
        login = await anonymous.post("/v1/auth/login", json={"identifier": "nobody", "password": "x"})
        assert login.status_code == 401 and login.headers["x-ratelimit-limit"] == "1000"
