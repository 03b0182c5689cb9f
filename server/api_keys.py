"""API keys: long-lived credentials for tools and bots, used as `Authorization: Bearer vtt_live_...`.

A key is shown once, when it is created; the database keeps its SHA-256 (the key is 256 random bits,
so a plain hash cannot be reversed by guessing) and a short prefix to recognise it in lists. A key has
the scope `read` (GET only) or `write` (everything its user may do), and works until it is revoked;
revocation is a database row, so it holds on every process at the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from server import clock
from server.accounts import User
from server.database import Database, in_lists
from server.errors import Invalid, NotFound
from server.event_log import EventLog

KEY_PREFIX = "vtt_live_"
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8
MAX_ACTIVE_KEYS = 25
# last_used_at is written at most this often per key, so a busy key does not cost a write per request.
LAST_USED_GRANULARITY = timedelta(seconds=60)
Scope = Literal["read", "write"]
_COLUMNS = "key_id, name, prefix, scope, created_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class ApiKeyUse:
    """An API key presented with a request, with its user."""

    key_id: int
    user: User
    scope: Scope


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(TypedDict):
    id: int
    object: Literal["api_key"]
    name: str
    prefix: str  # the key's first characters, to recognise it
    scopes: list[Literal["read", "write"]]  # read: GET only; write: everything its user may do
    created_at: str
    last_used_at: str | None  # updated at most once a minute
    revoked_at: str | None
    key: NotRequired[str]  # the key itself: only in the answer that creates it, never shown again


def _public(row: dict[str, Any]) -> ApiKey:
    return {
        "id": row["key_id"],
        "object": "api_key",
        "name": row["name"],
        "prefix": row["prefix"],
        "scopes": ["read"] if row["scope"] == "read" else ["read", "write"],
        "created_at": clock.iso(row["created_at"]),
        "last_used_at": clock.iso(row["last_used_at"]),
        "revoked_at": clock.iso(row["revoked_at"]),
    }


async def create(db: Database, user: User, name: str, scope: Scope) -> ApiKey:
    """A new key for `user`; the answer carries the key itself (`key`), which is never shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        active = await tx.fetch_val(
            "SELECT count(*) FROM api_keys WHERE user_id = :uid AND revoked_at IS NULL", {"uid": user.user_id}
        )
        if active >= MAX_ACTIVE_KEYS:
            raise Invalid({"name": f"At most {MAX_ACTIVE_KEYS} API keys may be active; revoke one first"})
        row = await tx.fetch_one(
            "INSERT INTO api_keys (user_id, name, prefix, key_hash, scope, created_at) "
            f"VALUES (:uid, :name, :prefix, :hash, :scope, :now) RETURNING {_COLUMNS}",
            {
                "uid": user.user_id,
                "name": name,
                "prefix": key[:SHOWN_PREFIX_LENGTH],
                "hash": _digest(key),
                "scope": scope,
                "now": clock.now_text(),
            },
        )
    assert row is not None
    return {**_public(row), "key": key}


async def list_for(db: Database, user: User, limit: int, offset: int) -> tuple[list[ApiKey], int]:
    """The user's keys, revoked ones included (they show when they were revoked), newest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = :uid ORDER BY key_id DESC LIMIT :limit OFFSET :offset",
        {"uid": user.user_id, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val("SELECT count(*) FROM api_keys WHERE user_id = :uid", {"uid": user.user_id})
    return [_public(row) for row in rows], total


async def revoke(log: EventLog, user: User, key_id: int) -> ApiKey:
    """Revoke one of the user's keys (again is harmless); another user's key is NotFound. The user's
    sockets close on every process, so none opened with the key outlives it (the ones opened with other
    credentials reconnect with them)."""
    async with log.db.transaction() as tx:
        await tx.execute(
            "UPDATE api_keys SET revoked_at = :now WHERE key_id = :id AND user_id = :uid AND revoked_at IS NULL",
            {"now": clock.now_text(), "id": key_id, "uid": user.user_id},
        )
        row = await tx.fetch_one(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = :id AND user_id = :uid",
            {"id": key_id, "uid": user.user_id},
        )
    if row is None:
        raise NotFound("API key not found")
    await log.logged_out(user.user_id)
    return _public(row)


async def unrevoked(db: Database, key_ids: set[int]) -> set[int]:
    """Which of `key_ids` are neither revoked nor keys of a deactivated user."""
    found: set[int] = set()
    for placeholders, batch in in_lists(key_ids):
        rows = await db.fetch_all(
            "SELECT k.key_id FROM api_keys k JOIN users u ON u.user_id = k.user_id "
            f"WHERE k.key_id IN ({placeholders}) AND k.revoked_at IS NULL AND u.is_active = 1",
            batch,
        )
        found.update(row["key_id"] for row in rows)
    return found


async def resolve(db: Database, key: str) -> tuple[ApiKeyUse, str] | None:
    """The live key and its active user's plan name, or None (unknown, revoked, or the user is inactive)."""
    if len(key) > 200:
        return None
    row = await db.fetch_one(
        "SELECT k.key_id, k.scope, k.last_used_at, u.user_id, u.username, u.email, u.is_moderator, "
        "COALESCE(p.plan, '') AS plan FROM api_keys k JOIN users u ON u.user_id = k.user_id "
        "LEFT JOIN user_profiles p ON p.user_id = u.user_id "
        "WHERE k.key_hash = :hash AND k.revoked_at IS NULL AND u.is_active = 1",
        {"hash": _digest(key)},
    )
    if row is None:
        return None
    now = datetime.now(UTC)
    stale = (now - LAST_USED_GRANULARITY).strftime("%Y-%m-%d %H:%M:%S")
    if row["last_used_at"] is None or row["last_used_at"] < stale:
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE api_keys SET last_used_at = :now WHERE key_id = :id",
                {"now": now.strftime("%Y-%m-%d %H:%M:%S"), "id": row["key_id"]},
            )
    return ApiKeyUse(row["key_id"], User.from_row(row), row["scope"]), row["plan"]
