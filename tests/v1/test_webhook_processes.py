"""Webhook delivery by separate server processes: two on PostgreSQL share 1,000 events and send each
exactly once, and a process killed mid-delivery leaves its delivery to be sent by the next one."""

from __future__ import annotations

import signal

import httpx2 as httpx
import pytest

from server import webhook_events
from server.database import Database
from tests.live import PASSWORD, ServerProcess, WebhookReceiver

EVENTS = 1000


def _env(database_url: str, tmp_path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "webhook-process-test-" + tmp_path.name,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_POLL_MS": "20",
        "WEBHOOK_RETRY_BASE_MS": "50",
        **extra,
    }


async def _endpoint(base_url: str, username: str, url: str) -> dict:
    """Register `username`, log in on /v1 and add an endpoint for user.updated at `url`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        registered = await api.post(
            "/api/auth/register.php",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 200, registered.text
        api.cookies.clear()
        token = (await api.post("/v1/auth/login", json={"identifier": username, "password": PASSWORD})).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        made = await api.post("/v1/webhooks", json={"url": url, "events": ["user.updated"]})
        assert made.status_code == 201, made.text
        return {**made.json(), "user_id": registered.json()["data"]["user_id"]}


async def _record_events(database_url: str, user_id: int, count: int) -> None:
    """Write `count` user.updated events through the outbox, as changes would (100 per transaction)."""
    db = Database(database_url)
    await db.connect()
    try:
        for start in range(0, count, 100):
            async with db.transaction() as tx:
                for number in range(start, min(start + 100, count)):
                    await webhook_events.record(tx, "user.updated", user_id, {"user": {"id": user_id, "n": number}})
    finally:
        await db.disconnect()


async def _undelivered(database_url: str) -> int:
    db = Database(database_url)
    await db.connect()
    try:
        return int(await db.fetch_val("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'"))
    finally:
        await db.disconnect()


@pytest.mark.postgres
async def test_two_processes_on_postgresql_deliver_1000_events_exactly_once_between_them(postgres_url, tmp_path):
    env = _env(postgres_url, tmp_path)
    first = await ServerProcess(env, tmp_path / "first.log").start()
    second = await ServerProcess(env, tmp_path / "second.log").start()
    async with WebhookReceiver() as receiver:
        try:
            endpoint = await _endpoint(first.url, "twoprocs", receiver.url)
            receiver.secret = endpoint["secret"]
            await _record_events(postgres_url, endpoint["user_id"], EVENTS)
            await receiver.wait_for(lambda: len(receiver.delivered) == EVENTS, timeout=240)
        finally:
            # Stopped processes send nothing more: what the receiver has now is all it will ever get.
            await first.stop()
            await second.stop()
    assert len(receiver.requests) == EVENTS and set(receiver.seen.values()) == {1}
    assert all(request["verified"] for request in receiver.requests)
    assert sorted(p["data"]["user"]["n"] for p in receiver.delivered.values()) == list(range(EVENTS))
    assert await _undelivered(postgres_url) == 0


async def test_a_process_killed_mid_delivery_leaves_the_event_to_the_next_process(tmp_path):
    env = _env(f"sqlite:///{tmp_path}/vtt.db", tmp_path, WEBHOOK_TIMEOUT="5", WEBHOOK_LEASE="6")
    doomed = await ServerProcess(env, tmp_path / "doomed.log").start()
    async with WebhookReceiver() as receiver:
        receiver.answer = lambda request: None if len(receiver.requests) == 1 else 200  # hold the first
        endpoint = await _endpoint(doomed.url, "killed", receiver.url)
        receiver.secret = endpoint["secret"]
        async with httpx.AsyncClient(base_url=doomed.url, timeout=30) as api:
            token = (await api.post("/v1/auth/login", json={"identifier": "killed", "password": PASSWORD})).json()
            changed = await api.patch(
                "/v1/users/me", json={"display_name": "Kilroy"}, headers={"Authorization": f"Bearer {token['token']}"}
            )
            assert changed.status_code == 200
        await receiver.wait_for(lambda: len(receiver.requests) == 1)
        doomed.process.send_signal(signal.SIGKILL)
        await doomed.stop()
        successor = await ServerProcess(env, tmp_path / "successor.log").start()
        try:
            await receiver.wait_for(lambda: len(receiver.delivered) == 1, timeout=60)
        finally:
            await successor.stop()
    [event_id] = receiver.delivered
    assert receiver.seen == {event_id: 2} and all(request["verified"] for request in receiver.requests)
    assert receiver.delivered[event_id]["data"]["user"]["display_name"] == "Kilroy"
