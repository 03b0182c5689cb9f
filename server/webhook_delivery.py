"""The webhook delivery worker: the only module that imports httpx (httpx2, its maintained successor).

Contract (README, "Webhooks"):
- At least once, with the event's stable id: a delivery is claimed by a lease (`lease_until`), sent, and
  only then marked done. Claiming is one UPDATE of rows that are due and not leased, with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work and each delivery goes to
  one of them; SQLite's single writer serialises the claims. A process that dies mid-delivery leaves its
  lease to expire, and then any process sends the delivery again.
- Signed like Stripe's webhooks: header `VTT-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret,
  "<t>.<raw body>")>`, so a receiver checks the body and refuses replays older than it tolerates.
- 2xx is delivered. Timeouts, connection errors and 5xx are retried after `retry_base * 2^(n-1)` seconds
  (at most `retry_max_delay`), times a random factor in [0.5, 1] so that retries of many events spread out,
  until `retry_for` after the delivery was first due; then it has failed, and an endpoint that has not
  taken a delivery since then is disabled. 410 Gone fails it at once and disables the endpoint. Any
  other answer fails it (the receiver refused it; manual redelivery sends it again).
- The endpoint's secret never reaches a log line or an answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx

from server import clock, notifications, outbox, webhook_urls
from server.database import Database, Transaction
from server.settings import WebhookPolicy
from server.webhook_events import now_ms

log = logging.getLogger("server.webhooks")
BATCH = 32
PRUNE_EVERY = 3600.0  # seconds between two prunings of the delivery log
EXCERPT = 500  # characters of the receiver's answer kept in the delivery log
USER_AGENT = "becmi-vtt-webhooks/1"
DELIVERIES = outbox.Outbox(
    "webhook_deliveries",
    "delivery_id",
    join="JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id",
    condition="d.state = 'pending' AND e.enabled = 1",
    still="state = 'pending'",
)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The VTT-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def retry_delay(attempt: int, policy: WebhookPolicy, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
    return min(policy.retry_max_delay, policy.retry_base * 2 ** min(attempt - 1, 40)) * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str = ""
    refused: bool = False  # the URL may not be called (SSRF): not worth retrying

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """A timeout, a connection error or a 5xx: the receiver may take it later."""
        return not self.refused and (self.status_code is None or self.status_code >= 500)


class WebhookDelivery:
    def __init__(self, db: Database, policy: WebhookPolicy) -> None:
        self.db = db
        self.policy = policy
        self.worker_id = secrets.token_hex(8)  # whose lease a claimed delivery is
        self._rng = random.Random()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._stopping.clear()
        # httpx logs every request's URL at INFO; a receiver's URL may carry its own token. Ours says enough.
        logging.getLogger("httpx2").setLevel(logging.WARNING)
        # No redirects (a redirect could point into our network) and no proxies from the environment.
        self._client = httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop claiming; let deliveries in flight finish for up to one timeout, then abandon them (their
        leases expire and another process, or the next start, sends them)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.policy.timeout + 1)
            except TimeoutError:
                pass
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        """Keep up to BATCH deliveries in flight: a slow receiver holds one slot, not the others'."""
        pruned_at = 0.0
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                claimed: list[dict[str, Any]] = []
                try:
                    if time.monotonic() - pruned_at >= PRUNE_EVERY:
                        pruned_at = time.monotonic()
                        await self.prune()
                    if len(self._in_flight) < BATCH:
                        claimed = await self._claim(BATCH - len(self._in_flight))
                except Exception:
                    log.exception("webhook delivery: claiming failed; trying again")
                for row in claimed:
                    task = asyncio.create_task(self._deliver_logged(row))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                if claimed and len(self._in_flight) < BATCH:
                    continue  # more may be due at once
                # Until a slot frees, the poll interval passes, or stop() is called.
                await asyncio.wait(
                    {stopping, *self._in_flight}, timeout=self.policy.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
            if self._in_flight:
                await asyncio.wait(self._in_flight)
        finally:
            stopping.cancel()
            for task in self._in_flight:
                task.cancel()

    async def _deliver_logged(self, row: dict[str, Any]) -> None:
        try:
            await self._deliver(row)
        except Exception:
            # The attempt may have been sent; the lease expires and the delivery is sent again.
            log.exception("webhook delivery: recording an attempt failed")

    async def prune(self) -> None:
        """Delete finished deliveries older than `keep_days` with their attempts, and events left without
        deliveries, so the log stays bounded. Pending deliveries are never deleted."""
        cutoff = (datetime.now(UTC) - timedelta(days=self.policy.keep_days)).strftime("%Y-%m-%d %H:%M:%S")
        async with self.db.transaction() as tx:
            old = "SELECT delivery_id FROM webhook_deliveries WHERE state <> 'pending' AND created_at <= :cutoff"
            await tx.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({old})", {"cutoff": cutoff})
            await tx.execute(f"DELETE FROM webhook_deliveries WHERE delivery_id IN ({old})", {"cutoff": cutoff})
            await tx.execute(
                "DELETE FROM webhook_events WHERE created_at <= :cutoff AND NOT EXISTS "
                "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.event_id)",
                {"cutoff": cutoff},
            )

    async def _claim(self, limit: int) -> list[dict[str, Any]]:
        keys = await outbox.claim(self.db, DELIVERIES, self.worker_id, self.policy.lease, limit)
        if not keys:
            return []
        names, values = outbox.keys_in(keys)
        return await self.db.fetch_all(
            "SELECT d.delivery_id, d.event_id, d.attempts, d.first_due_at, e.endpoint_id, e.url, e.secret, v.body "
            "FROM webhook_deliveries d JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id "
            f"JOIN webhook_events v ON v.event_id = d.event_id WHERE d.delivery_id IN ({names})",
            values,
        )

    async def _send(self, row: dict[str, Any], attempt: int) -> Outcome:
        try:
            await webhook_urls.check(row["url"], self.policy.allowed_hosts)
        except webhook_urls.RefusedUrl as refused:
            return Outcome(None, f"refused: {refused}", 0, refused=True)
        assert self._client is not None
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "VTT-Signature": signature(row["secret"], clock.now_epoch(), body),
            "VTT-Event-Id": row["event_id"],
            "VTT-Delivery-Attempt": str(attempt),
        }
        started = time.perf_counter()
        try:
            # httpx's timeout bounds each read; this bounds the whole attempt (a receiver dripping bytes
            # must not hold it past the lease, or another process would send the event again meanwhile).
            async with (
                asyncio.timeout(self.policy.timeout),
                self._client.stream("POST", row["url"], content=body, headers=headers) as response,
            ):
                excerpt = b""
                async for chunk in response.aiter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= EXCERPT:
                        break
            text = excerpt.decode("utf-8", "replace")[:EXCERPT]
            return Outcome(response.status_code, None, _since(started), text)
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(None, "timeout", _since(started))
        except Exception as exc:  # connection errors, and whatever else a receiver's answer can cause
            return Outcome(None, f"connection error: {type(exc).__name__}", _since(started))

    async def _deliver(self, row: dict[str, Any]) -> None:
        attempt = row["attempts"] + 1
        outcome = await self._send(row, attempt)
        state, retry_in, disable = "failed", None, None
        if outcome.delivered:
            state = "delivered"
        elif outcome.status_code == 410:
            disable = "the endpoint answered 410 Gone"
        elif outcome.retryable:
            delay = retry_delay(attempt, self.policy, self._rng)
            if now_ms() + delay * 1000 - row["first_due_at"] <= self.policy.retry_for * 1000:
                state, retry_in = "pending", int(delay * 1000)
        log.info(
            "webhook %s to endpoint %s, attempt %d: %s",
            row["event_id"],
            row["endpoint_id"],
            attempt,
            outcome.status_code or outcome.error,
        )
        async with self.db.transaction() as tx:
            kept = await tx.fetch_val(
                "UPDATE webhook_deliveries SET state = :state, attempts = :attempt, next_attempt_at = :next, "
                "lease_until = 0, leased_by = NULL, last_status = :status "
                "WHERE delivery_id = :id AND leased_by = :me RETURNING delivery_id",
                {
                    "state": state,
                    "attempt": attempt,
                    "next": now_ms() + (retry_in or 0),
                    "status": outcome.status_code,
                    "id": row["delivery_id"],
                    "me": self.worker_id,
                },
            )
            if kept is None:
                return  # the endpoint was deleted meanwhile
            await tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, "
                "response_excerpt, retry_in_ms, attempted_at) VALUES (:id, :attempt, :status, :error, :duration, "
                ":excerpt, :retry, :now)",
                {
                    "id": row["delivery_id"],
                    "attempt": attempt,
                    "status": outcome.status_code,
                    "error": outcome.error,
                    "duration": outcome.duration_ms,
                    "excerpt": outcome.excerpt,
                    "retry": retry_in,
                    "now": clock.now_text(),
                },
            )
            if state == "failed" and disable is None and outcome.retryable:
                disable = await _failing_since(tx, row)
            if disable is not None:
                await _disable(tx, row, disable)


async def _disable(tx: Transaction, row: dict[str, Any], reason: str) -> None:
    """Disable the endpoint and tell its owner (an in-app notification; it shows in their list)."""
    owner = await tx.fetch_one(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = :reason, updated_at = :now "
        "WHERE endpoint_id = :id AND enabled = 1 RETURNING user_id, url",
        {"reason": reason, "now": clock.now_text(), "id": row["endpoint_id"]},
    )
    if owner is not None:
        await notifications.record(  # in the app only: the worker has no mailer
            tx,
            owner["user_id"],
            "webhook_disabled",
            "A webhook endpoint was disabled",
            {"webhook_id": row["endpoint_id"], "url": owner["url"], "reason": reason},
        )


async def _failing_since(tx: Any, row: dict[str, Any]) -> str | None:
    """Why to disable the endpoint whose delivery just ran out of retries: none delivered since it was due."""
    delivered = await tx.fetch_val(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = :id AND state = 'delivered' "
        "AND next_attempt_at >= :since",
        {"id": row["endpoint_id"], "since": row["first_due_at"]},
    )
    if delivered:
        return None
    return "no delivery succeeded during the whole retry period"


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
