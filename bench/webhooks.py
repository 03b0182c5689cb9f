"""Webhooks under load: 10,000 events to a receiver that refuses the first two attempts of each (503),
with the delivering server process killed (SIGKILL) part-way and a new one started on the same database.

Counts what the receiver's de-duplicating store holds (each event id once), requests for ids it already
stored (at-least-once: the killed process may have sent a delivery it could not mark done), and ids
never delivered (lost: must be 0).

    .venv/bin/python bench/webhooks.py [--events 10000] [--kill-after 3000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import webhook_events  # noqa: E402
from server.database import Database  # noqa: E402
from tests.live import WebhookReceiver, free_port  # noqa: E402 - the tests' receiver: it checks signatures

PASSWORD = "correct horse battery"


async def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as probe:
        for _ in range(300):
            try:
                if (await probe.get(f"{url}/api/health")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server did not start: see {log}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kill-after", type=int, default=3_000, help="SIGKILL the server after this many stored")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    database_url = args.database_url or f"sqlite:///{work}/bench.db"
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "webhook-bench-secret-key",
        "UPLOAD_DIR": str(work / "uploads"),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_RETRY_BASE_MS": "200",
        "WEBHOOK_POLL_MS": "50",
        "WEBHOOK_TIMEOUT": "5",
        "WEBHOOK_LEASE": "10",
    }
    async with WebhookReceiver(fail_first=2) as receiver:
        await deliver(args, env, work, database_url, receiver)


async def deliver(
    args: argparse.Namespace, env: dict[str, str], work: Path, database_url: str, receiver: WebhookReceiver
) -> None:
    stored = receiver.delivered  # the receiver's de-duplicating store: each event id once
    process, url = await start_server(env, work / "first.log")
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        registered = await api.post(
            "/api/auth/register.php", json={"username": "bencher", "email": "b@example.com", "password": PASSWORD}
        )
        user_id = registered.json()["data"]["user_id"]
        api.cookies.clear()
        token = (await api.post("/v1/auth/login", json={"identifier": "bencher", "password": PASSWORD})).json()
        endpoint = await api.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["user.updated"]},
            headers={"Authorization": f"Bearer {token['token']}"},
        )
        receiver.secret = endpoint.json()["secret"]
    db = Database(database_url)
    await db.connect()
    started = time.monotonic()
    for first in range(0, args.events, 500):
        async with db.transaction() as tx:
            for number in range(first, min(first + 500, args.events)):
                await webhook_events.record(tx, "user.updated", user_id, {"user": {"id": user_id, "n": number}})
    written = time.monotonic() - started
    while len(stored) < args.kill_after:
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(stored)
    process, url = await start_server(env, work / "second.log")
    deadline = time.monotonic() + 1800
    while len(stored) < args.events and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    process.terminate()
    process.wait()
    pending = await db.fetch_val("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
    await db.disconnect()
    # Each event is refused twice, then taken: any request after the third was sent again after being stored.
    again_after_stored = sum(max(0, attempts - 3) for attempts in receiver.seen.values())
    bad_signatures = sum(1 for request in receiver.requests if not request["verified"])
    print(f"events written through the outbox: {args.events} in {written:.1f} s")
    print(f"server SIGKILLed after {killed_at} stored; a new process took over")
    print(f"receiver: {len(receiver.requests)} requests, {bad_signatures} bad signatures")
    print(f"stored once (de-duplicated): {len(stored)}; lost: {args.events - len(stored)}")
    print(f"sent again after being stored (at-least-once, around the kill): {again_after_stored}")
    print(f"deliveries not marked delivered at the end: {pending}")
    print(f"all stored {elapsed:.1f} s after the first event was written ({args.events / elapsed:.0f} events/s)")


if __name__ == "__main__":
    asyncio.run(main())
