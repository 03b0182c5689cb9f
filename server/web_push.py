"""Web Push: the only module that imports py_vapid and http_ece. Sends the pushes queued with
notifications (server/push_subscriptions.py) to the browsers' push services.

Contract:
- Each push is encrypted for its browser (RFC 8291, `Content-Encoding: aes128gcm`, with the subscription's
  `p256dh` and `auth`) and signed with our VAPID key (RFC 8292: `Authorization: vapid t=<JWT>,k=<public
  key>`, the JWT's `aud` the push service's origin, `sub` VAPID_SUBJECT, `exp` 12 hours on).
- Claimed by a lease like webhook deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so several
  processes share the work; a 2xx answer removes it. 404 or 410 (the browser unsubscribed) removes the
  subscription with its pushes. A timeout, a connection error, 429 or 5xx is retried with growing delays
  (the webhooks' WEBHOOK_RETRY_BASE_MS, doubling) up to MAX_ATTEMPTS; any other answer drops the push.
- The endpoint is checked with the webhooks' SSRF rules before every push; redirects are not followed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import http_ece
import httpx2 as httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from server import outbox, push_subscriptions, webhook_urls
from server.database import Database
from server.settings import WebhookPolicy
from server.webhook_events import now_ms

log = logging.getLogger("server.push")
BATCH = 32
MAX_ATTEMPTS = 5
TTL = 24 * 3600  # seconds the push service keeps a push for a browser that is offline
TOKEN_LIFETIME = 12 * 3600
PUSHES = outbox.Outbox("push_deliveries", "delivery_id")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_private_key() -> str:
    """A new VAPID private key: the raw P-256 scalar, base64url (the form VAPID_PRIVATE_KEY takes)."""
    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return _b64(number.to_bytes(32, "big"))


def public_key(private_key: str) -> str:
    """The VAPID public key browsers pass to PushManager.subscribe() as `applicationServerKey`."""
    point = Vapid02.from_raw(private_key.encode()).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point)


def encrypted(payload: bytes, p256dh: str, auth: str) -> bytes:
    """The payload encrypted for one browser (aes128gcm, a fresh key and salt per push)."""
    return http_ece.encrypt(
        payload,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=push_subscriptions.decoded_key(p256dh, 65, "p256dh"),
        auth_secret=push_subscriptions.decoded_key(auth, 16, "auth"),
        version="aes128gcm",
    )


class WebPush:
    """The worker (started in the app's lifespan). `private_key` is set once the app knows it."""

    def __init__(self, db: Database, policy: WebhookPolicy, subject: str) -> None:
        self.db, self.policy, self.subject = db, policy, subject
        self.private_key = ""
        self.worker_id = secrets.token_hex(8)
        self._vapid: Vapid02 | None = None
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, private_key: str) -> None:
        self.private_key = private_key
        self._vapid = Vapid02.from_raw(private_key.encode())
        self._client = httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="web-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self._claim()
                await asyncio.gather(*(self._deliver(row) for row in claimed))
            except Exception:
                log.exception("web push: a round failed; trying again")
                claimed = []
            if not claimed:
                await asyncio.sleep(self.policy.poll_interval)

    async def _claim(self) -> list[dict[str, Any]]:
        keys = await outbox.claim(self.db, PUSHES, self.worker_id, self.policy.lease, BATCH)
        if not keys:
            return []
        names, values = outbox.keys_in(keys)
        return await self.db.fetch_all(
            "SELECT d.delivery_id, d.attempts, d.payload, s.subscription_id, s.endpoint, s.p256dh, s.auth "
            "FROM push_deliveries d JOIN push_subscriptions s ON s.subscription_id = d.subscription_id "
            f"WHERE d.delivery_id IN ({names})",
            values,
        )

    def _headers(self, endpoint: str) -> dict[str, str]:
        assert self._vapid is not None
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": self.subject,
            "exp": now_ms() // 1000 + TOKEN_LIFETIME,
        }
        return {
            **self._vapid.sign(claims),
            "TTL": str(TTL),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Urgency": "normal",
        }

    async def _send(self, row: dict[str, Any]) -> int | None:
        """The push service's status code, None for a timeout or connection error; raises RefusedUrl."""
        await webhook_urls.check(row["endpoint"], self.policy.allowed_hosts)
        assert self._client is not None
        body = encrypted(row["payload"].encode(), row["p256dh"], row["auth"])
        try:
            async with asyncio.timeout(self.policy.timeout):
                answer = await self._client.post(row["endpoint"], content=body, headers=self._headers(row["endpoint"]))
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.info("web push to subscription %s: %s", row["subscription_id"], type(exc).__name__)
            return None
        return answer.status_code

    async def _deliver(self, row: dict[str, Any]) -> None:
        try:
            status: int | None = await self._send(row)
        except webhook_urls.RefusedUrl as refused:
            log.warning("web push to subscription %s refused: %s", row["subscription_id"], refused)
            status = 404  # an endpoint we may no longer call is as good as gone
        attempt = row["attempts"] + 1
        mine = {"id": row["delivery_id"], "me": self.worker_id}
        async with self.db.transaction() as tx:
            if status in (404, 410):
                await push_subscriptions.remove(tx, row["subscription_id"])
            elif (status is None or status == 429 or status >= 500) and attempt < MAX_ATTEMPTS:
                delay = min(self.policy.retry_max_delay, self.policy.retry_base * 2 ** (attempt - 1))
                await tx.execute(
                    "UPDATE push_deliveries SET attempts = :attempt, next_attempt_at = :next, lease_until = 0, "
                    "leased_by = NULL WHERE delivery_id = :id AND leased_by = :me",
                    {**mine, "attempt": attempt, "next": now_ms() + int(delay * 1000)},
                )
            else:
                if not 200 <= (status or 0) < 300:
                    log.warning("web push to subscription %s dropped: %s", row["subscription_id"], status)
                await tx.execute("DELETE FROM push_deliveries WHERE delivery_id = :id AND leased_by = :me", mine)
