"""Server-side login sessions behind the `sessionToken` cookie.

The cookie holds a random token; the database holds only its HMAC under the server's secret key, so a
copy of the database does not let anyone log in. Each session carries its own CSRF token.

Each process remembers a token's session for up to `REMEMBER_SECONDS` (each app of its own database),
so a burst of requests with one cookie reads the database once. Whatever ends a user's sessions (logout,
password change or reset, account closure) forgets them here at once and tells every other process (the
logout broadcast, whose receivers call `forget`); a plan change is forgotten here at once and elsewhere
within that second.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass

from server import clock
from server.accounts import User
from server.database import Database, in_lists
from server.errors import Unauthenticated
from server.event_log import EventLog

COOKIE_NAME = "sessionToken"
REMEMBER_SECONDS = 1.0
MAX_REMEMBERED = 10_000  # sessions one process remembers; beyond it, it starts again from none


@dataclass(frozen=True)
class LoginSession:
    user: User
    csrf_token: str
    token_hash: str
    expires_at: int = 0  # epoch seconds
    plan: str = ""  # the user's plan name; "" is the default plan


Remembered = dict[str, tuple[float, LoginSession]]  # token hash -> (when read, monotonic seconds; the session)
# What this process remembers, per database (so per app: each app has its own), gone with the database.
_remembered_of: weakref.WeakKeyDictionary[Database, Remembered] = weakref.WeakKeyDictionary()


def _remembered(db: Database) -> Remembered:
    found = _remembered_of.get(db)
    if found is None:
        found = _remembered_of[db] = {}
    return found


def forget(db: Database, user_id: int) -> None:
    """Forget what this process remembers of the user's login sessions (they ended or changed)."""
    remembered = _remembered(db)
    for token_hash in [key for key, (_, session) in remembered.items() if session.user.user_id == user_id]:
        remembered.pop(token_hash, None)


def _token_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


async def start(db: Database, secret_key: str, user: User, lifetime: int) -> tuple[str, LoginSession]:
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    token_hash = _token_hash(secret_key, token)
    now = clock.now_epoch()
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_sessions WHERE expires_at <= :now", {"now": now})
        await tx.execute(
            "INSERT INTO login_sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
            "VALUES (:hash, :user_id, :csrf, :now, :expires)",
            {"hash": token_hash, "user_id": user.user_id, "csrf": csrf_token, "now": now, "expires": now + lifetime},
        )
    return token, LoginSession(user, csrf_token, token_hash, now + lifetime)


async def resolve(db: Database, secret_key: str, token: str) -> LoginSession | None:
    """The live session for a cookie token, or None if unknown, expired or the user was deactivated."""
    if not token or len(token) > 200:
        return None
    token_hash = _token_hash(secret_key, token)
    memory = _remembered(db)
    remembered = memory.get(token_hash)
    if remembered is not None and time.monotonic() - remembered[0] < REMEMBER_SECONDS:
        if remembered[1].expires_at > clock.now_epoch():
            return remembered[1]
    read_at = time.monotonic()
    row = await db.fetch_one(
        "SELECT u.user_id, u.username, u.email, u.is_moderator, s.csrf_token, s.expires_at, "
        "COALESCE(p.plan, '') AS plan FROM login_sessions s JOIN users u ON u.user_id = s.user_id "
        "LEFT JOIN user_profiles p ON p.user_id = u.user_id "
        "WHERE s.token_hash = :hash AND s.expires_at > :now AND u.is_active = 1",
        {"hash": token_hash, "now": clock.now_epoch()},
    )
    if row is None:
        memory.pop(token_hash, None)
        return None
    session = LoginSession(User.from_row(row), row["csrf_token"], token_hash, row["expires_at"], row["plan"])
    if len(memory) >= MAX_REMEMBERED:
        memory.clear()
    memory[token_hash] = (read_at, session)
    return session


async def authentication(db: Database, secret_key: str, token: str | None) -> LoginSession:
    """The live login session of a cookie token; Unauthenticated if there is none. Both transports and
    every HTTP route authenticate through this."""
    session = await resolve(db, secret_key, token) if token else None
    if session is None:
        raise Unauthenticated()
    return session


async def live(db: Database, token_hashes: set[str]) -> set[str]:
    """Which of `token_hashes` are still live sessions of active users (the rest ended or expired)."""
    found: set[str] = set()
    for placeholders, batch in in_lists(token_hashes):
        rows = await db.fetch_all(
            "SELECT s.token_hash FROM login_sessions s JOIN users u ON u.user_id = s.user_id "
            f"WHERE s.token_hash IN ({placeholders}) AND s.expires_at > :now AND u.is_active = 1",
            {**batch, "now": clock.now_epoch()},
        )
        found.update(row["token_hash"] for row in rows)
    return found


async def end(log: EventLog, session: LoginSession) -> None:
    """Log out: the login session is deleted, and every process closes the user's sockets."""
    async with log.db.transaction() as tx:
        await tx.execute("DELETE FROM login_sessions WHERE token_hash = :hash", {"hash": session.token_hash})
    forget(log.db, session.user.user_id)
    await log.logged_out(session.user.user_id)


async def end_all(db: Database, user: User, *, keep: LoginSession | None = None) -> None:
    """End every login session of the user, except `keep` (the one that asked, when it is a session)."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM login_sessions WHERE user_id = :uid AND token_hash <> :keep",
            {"uid": user.user_id, "keep": keep.token_hash if keep else ""},
        )
    forget(db, user.user_id)


def csrf_matches(session: LoginSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf_token.encode(), presented.encode())
