"""Password reset by email. Contract:
- `request_reset` answers alike whether or not the address has an account (no enumeration: the caller
  always gets 202, and the mail goes out in the background), and mails an active account a token.
- The token is 256 random bits; the database keeps its SHA-256. It works once, for TOKEN_LIFETIME
  seconds; an account has at most MAX_OPEN tokens at a time (the oldest go).
- `confirm` sets the new password, uses the token up, ends every login session of the account and
  closes its sockets, like a password change.
"""

from __future__ import annotations

import hashlib
import secrets

from server import accounts, clock, login_sessions
from server.accounts import User
from server.errors import Invalid
from server.event_log import EventLog
from server.mail import Mailer
from server.passwords import hash_password

TOKEN_LIFETIME = 3600
MAX_OPEN = 3
_INVALID = "This reset token is not valid: it is unknown, used or expired. Ask for a new one."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_reset(log: EventLog, mailer: Mailer, public_url: str, email: str) -> None:
    row = await log.db.fetch_one(
        "SELECT user_id, username, email, is_moderator FROM users WHERE lower(email) = lower(:email) AND is_active = 1",
        {"email": email},
    )
    if row is None:
        return
    token = secrets.token_urlsafe(32)
    now = clock.now_epoch()
    async with log.db.transaction() as tx:
        await tx.execute(
            "DELETE FROM password_resets WHERE user_id = :uid AND (expires_at <= :now OR used_at IS NOT NULL)",
            {"uid": row["user_id"], "now": now},
        )
        open_tokens = await tx.fetch_all(
            "SELECT token_hash FROM password_resets WHERE user_id = :uid ORDER BY expires_at DESC",
            {"uid": row["user_id"]},
        )
        for oldest in open_tokens[MAX_OPEN - 1 :]:
            await tx.execute("DELETE FROM password_resets WHERE token_hash = :hash", {"hash": oldest["token_hash"]})
        await tx.execute(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES (:hash, :uid, :at, :now)",
            {"hash": _digest(token), "uid": row["user_id"], "at": now + TOKEN_LIFETIME, "now": clock.now_text()},
        )
    mailer.send_later(
        row["email"],
        "Reset your BECMI VTT password",
        f"Someone (we hope you) asked to reset the password of {row['username']}.\n\n"
        f"Your reset token, valid for one hour and once:\n\n{token}\n\n"
        f"Use it at {public_url}/v1/auth/password-reset/confirm (POST {{token, new_password}}).\n"
        "If you did not ask, ignore this message: your password stays as it is.\n",
    )


async def confirm(log: EventLog, token: str, new_password: str) -> None:
    if not accounts.MIN_PASSWORD <= len(new_password) <= accounts.MAX_PASSWORD:
        raise Invalid(
            {"new_password": f"Password must be between {accounts.MIN_PASSWORD} and {accounts.MAX_PASSWORD} characters"}
        )
    new_hash = await hash_password(new_password)
    async with log.db.transaction() as tx:
        # One UPDATE takes the token: two concurrent uses cannot both succeed.
        user_id = await tx.fetch_val(
            "UPDATE password_resets SET used_at = :used WHERE token_hash = :hash AND used_at IS NULL "
            "AND expires_at > :now RETURNING user_id",
            {"used": clock.now_text(), "hash": _digest(token), "now": clock.now_epoch()},
        )
        if user_id is None:
            raise Invalid({"token": _INVALID}, codes={"token": "invalid_token"})
        await tx.execute(
            "UPDATE users SET password_hash = :hash WHERE user_id = :uid", {"hash": new_hash, "uid": user_id}
        )
        row = await tx.fetch_one(
            "SELECT user_id, username, email, is_moderator FROM users WHERE user_id = :uid", {"uid": user_id}
        )
    assert row is not None
    user = User.from_row(row)
    await login_sessions.end_all(log.db, user)
    await log.logged_out(user.user_id)
