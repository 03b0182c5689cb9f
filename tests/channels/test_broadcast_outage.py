"""Two server processes over real PostgreSQL with a redis-server of the test's own, which the test stops
and starts: what a lost broadcast or a missing Redis must not break."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live import Client, RedisProcess, ServerProcess, game_table, missing_service


def environment(postgres_url: str, redis: RedisProcess) -> dict[str, str]:
    return {
        "DATABASE_URL": postgres_url,
        "BROADCAST_URL": redis.url,
        "RATE_LIMIT_ATTEMPTS": "1000",
        "SECRET_KEY": "a shared secret for both processes",
    }


def same_login_on(process: ServerProcess, client: Client) -> Client:
    """The same browser (the same login session cookie), talking to another process."""
    other = Client(process)  # type: ignore[arg-type]
    other.http.cookies.set("sessionToken", client.http.cookies["sessionToken"])
    other.csrf, other.user = client.csrf, client.user
    return other


async def health(client: Client) -> dict[str, Any]:
    response = await client.get("/api/health")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture
async def two_processes(
    postgres_url: str, redis_process: RedisProcess, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    env = environment(postgres_url, redis_process)
    a = await ServerProcess(env, tmp_path / "a.log").start()
    b = await ServerProcess(env, tmp_path / "b.log").start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def closing_code(receive: Callable[[], Awaitable[object]]) -> int:
    """Read until the socket closes; the close code it got."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(30):
            while True:
                await receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_logout_reaches_a_socket_on_another_process_while_redis_is_down(
    two_processes: tuple[ServerProcess, ServerProcess], redis_process: RedisProcess
):
    a, b = two_processes
    _, (player_a,), session_id = await game_table(a, players=1)  # type: ignore[arg-type]
    player_b = same_login_on(b, player_a)
    socket = await player_b.socket(session_id, last_event_id=10**9)
    assert (await socket.frame())["type"] == "hello"
    redis_process.stop()  # the logout broadcast from A is lost
    assert (await player_a.post("/api/auth/logout.php")).status_code == 200
    assert await closing_code(socket.connection.recv) == 4409


async def test_a_revoked_api_key_closes_its_socket_on_another_process_while_redis_is_down(
    two_processes: tuple[ServerProcess, ServerProcess], redis_process: RedisProcess
):
    a, b = two_processes
    dm, _, session_id = await game_table(a, players=0)  # type: ignore[arg-type]
    created = await dm.post("/v1/api-keys", {"name": "table bot", "scope": "read"})
    assert created.status_code == 201, created.text
    key = created.json()
    url = f"ws://127.0.0.1:{b.port}/api/realtime/ws?session_id={session_id}&last_event_id={10**9}"
    async with connect(url, additional_headers={"Authorization": f"Bearer {key['key']}"}) as socket:
        assert '"hello"' in await socket.recv()
        redis_process.stop()  # the broadcast that closes the key's sockets is lost
        assert (await dm.send("DELETE", f"/v1/api-keys/{key['id']}")).status_code == 200
        assert await closing_code(socket.recv) == 4409


async def test_a_process_starts_while_redis_is_down_and_connects_when_it_returns(postgres_url: str, tmp_path: Path):
    if shutil.which("redis-server") is None:
        missing_service("redis", "redis-server", FileNotFoundError("redis-server is not installed"))
    redis = RedisProcess()  # not started yet: nothing listens on its port
    env = environment(postgres_url, redis)
    a = await ServerProcess(env, tmp_path / "a.log").start()
    b = await ServerProcess(env, tmp_path / "b.log").start()
    try:
        dm_a, (player_a,), session_id = await game_table(a, players=1)  # type: ignore[arg-type]
        assert await health(dm_a) == {
            "server": "degraded",
            "database": "postgresql",
            "broadcast": "redis",
            "broadcast_connected": False,
            "connections": 0,
        }
        socket = await player_a.socket(session_id, last_event_id=10**9)
        head = (await socket.frame())["head_event_id"]
        await redis.start()
        dm_b = same_login_on(b, dm_a)
        async with asyncio.timeout(30):  # each process's supervisor notices Redis is back
            while True:
                if (await health(dm_a))["broadcast_connected"] and (await health(dm_b))["broadcast_connected"]:
                    break
                await asyncio.sleep(0.1)
        assert (await health(dm_b))["server"] == "ok"
        await dm_b.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 33})
        event = await socket.event(timeout=20)
        assert event["event_id"] == head + 1 and event["event_data"]["volume"] == 33
    finally:
        await a.stop()
        await b.stop()
        redis.stop()
