"""Two server processes over real PostgreSQL and Redis: one quota, and revocation everywhere at once (as
soon as the revocation's broadcast arrives: each process remembers a login for up to a second, and
forgets it when told)."""

from __future__ import annotations

import asyncio

import httpx2 as httpx
import pytest

from server.login_sessions import REMEMBER_SECONDS
from tests.live import PASSWORD, ServerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def two_processes(postgres_url, redis_url, tmp_path):
    env = {
        "DATABASE_URL": postgres_url,
        "BROADCAST_URL": redis_url,
        "SECRET_KEY": "platform-scale-out-test-" + tmp_path.name,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    first = await ServerProcess(env, tmp_path / "first.log").start()
    second = await ServerProcess(env, tmp_path / "second.log").start()
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=30) as a,
        httpx.AsyncClient(base_url=second.url, timeout=30) as b,
    ):
        yield a, b
    await first.stop()
    await second.stop()


async def _account(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    registered = await api.post(
        "/api/auth/register.php", json={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 200, registered.text
    api.cookies.clear()
    token = (await api.post("/v1/auth/login", json={"identifier": username, "password": PASSWORD})).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def refused_soon(api: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """The status of `GET /v1/users/me` once the process has heard of the revocation: the broadcast tells it
    at once, and what it remembered expires after REMEMBER_SECONDS even if the broadcast was lost."""
    async with asyncio.timeout(REMEMBER_SECONDS + 10):
        while (status := (await api.get("/v1/users/me", headers=headers)).status_code) == 200:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.05)
    return status


async def test_the_51st_request_of_a_free_burst_is_429_on_whichever_process_it_lands(two_processes):
    a, b = two_processes
    auth = await _account(a, "roundrobin")
    for number in range(1, 51):
        response = await (a if number % 2 else b).get("/v1/users/me", headers=auth)
        assert response.status_code == 200, number
        assert response.headers["x-ratelimit-burst-remaining"] == str(50 - number)
    for api in (a, b):
        refused = await api.get("/v1/users/me", headers=auth)
        assert refused.status_code == 429 and refused.json()["error"] == "rate_limit_exceeded"
        assert int(refused.headers["retry-after"]) >= 1


async def test_a_logged_out_token_and_a_revoked_key_are_refused_by_the_other_process_as_soon_as_it_hears(two_processes):
    a, b = two_processes
    auth = await _account(a, "revoker")
    key = (await a.post("/v1/api-keys", json={"name": "bot"}, headers=auth)).json()
    as_key = {"Authorization": f"Bearer {key['key']}"}
    assert (await b.get("/v1/users/me", headers=as_key)).status_code == 200
    assert (await a.delete(f"/v1/api-keys/{key['id']}", headers=auth)).status_code == 200
    assert await refused_soon(b, as_key) == 401
    assert (await b.get("/v1/users/me", headers=auth)).status_code == 200
    assert (await a.post("/v1/auth/logout", headers=auth)).status_code == 204
    assert await refused_soon(b, auth) == 401


async def test_campaigns_assets_and_profiles_on_postgresql(two_processes):
    a, b = two_processes
    auth = await _account(a, "postgres_dm")
    campaign = (await a.post("/v1/campaigns", json={"name": "Isle of Dread"}, headers=auth)).json()
    assert (await b.get(f"/v1/campaigns/{campaign['id']}", headers=auth)).json()["member_count"] == 1
    game = await b.post(
        "/api/session/create.php",
        json={"session_title": "Landing", "session_datetime": "2099-01-01 19:00:00", "campaign_id": campaign["id"]},
        headers=auth,
    )
    assert game.status_code == 200, game.text
    files = {"file": ("map.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)}
    asset = await a.post("/v1/assets", data={"type": "portrait", "name": "50%_off"}, files=files, headers=auth)
    assert asset.status_code == 201, asset.text
    found = (await b.get("/v1/assets", params={"search": "0%_"}, headers=auth)).json()
    assert [item["id"] for item in found["data"]] == [asset.json()["id"]]
    me = await b.patch(
        "/v1/users/me", json={"avatar_asset_id": asset.json()["id"], "time_zone": "America/New_York"}, headers=auth
    )
    assert me.status_code == 200 and me.json()["avatar_asset_id"] == asset.json()["id"]
    closed = await a.request("DELETE", "/v1/users/me", json={"password": PASSWORD}, headers=auth)
    assert closed.status_code == 204
    assert await refused_soon(b, auth) == 401
