"""User accounts: registration, credential checks, and the accounts the command line creates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from typing_extensions import TypedDict

from server import clock, webhook_events
from server.database import Database, DuplicateRow, Row, Transaction
from server.errors import Invalid, Unauthenticated
from server.passwords import hash_password, verify_password

BAD_CREDENTIALS = "Invalid username/email or password"
# What an account's name, email and password may be (the API's request model uses the same).
USERNAME_PATTERN = r"^[A-Za-z0-9_-]{3,50}$"
USERNAME_RULE = "3-50 letters, digits, _ or -"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL_RULE = "a valid email address"
MAX_EMAIL = 255
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


class PublicUser(TypedDict):
    user_id: int
    username: str
    email: str
    is_moderator: bool


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    email: str
    is_moderator: bool

    @classmethod
    def from_row(cls, row: Row) -> User:
        return cls(row["user_id"], row["username"], row["email"], bool(row["is_moderator"]))

    def public(self) -> PublicUser:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "email": self.email,
            "is_moderator": self.is_moderator,
        }


async def _taken_fields(db: Database, username: str, email: str) -> dict[str, str]:
    rows = await db.fetch_all(
        "SELECT lower(username) AS username, lower(email) AS email FROM users "
        "WHERE lower(username) = lower(:username) OR lower(email) = lower(:email)",
        {"username": username, "email": email},
    )
    taken: dict[str, str] = {}
    for row in rows:
        if row["username"] == username.lower():
            taken["username"] = "Username is already taken"
        if row["email"] == email.lower():
            taken["email"] = "Email is already registered"
    return taken


def _rule_breaches(username: str, email: str, password: str) -> dict[str, str]:
    breaches = {}
    if not re.fullmatch(USERNAME_PATTERN, username):
        breaches["username"] = f"Username must be {USERNAME_RULE}"
    if len(email) > MAX_EMAIL or not re.fullmatch(EMAIL_PATTERN, email):
        breaches["email"] = f"Email must be {EMAIL_RULE}"
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        breaches["password"] = f"Password must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters"
    return breaches


async def create_user(
    db: Database, username: str, email: str, password: str, *, is_moderator: bool = False, is_active: bool = True
) -> User:
    """Create an account. A name, email or password outside the rules above, or a username or email
    already in use (in any letter case), is `Invalid`."""
    breaches = _rule_breaches(username, email, password)
    if breaches:
        raise Invalid(breaches)
    taken = await _taken_fields(db, username, email)
    if taken:
        raise Invalid(taken)
    password_hash = await hash_password(password)
    try:
        async with db.transaction() as tx:
            user_id = await tx.fetch_val(
                "INSERT INTO users (username, email, password_hash, is_moderator, is_active, created_at) "
                "VALUES (:username, :email, :hash, :moderator, :active, :now) RETURNING user_id",
                {
                    "username": username,
                    "email": email,
                    "hash": password_hash,
                    "moderator": int(is_moderator),
                    "active": int(is_active),
                    "now": clock.now_text(),
                },
            )
            user = {"id": user_id, "object": "user", "username": username, "email": email}
            await webhook_events.record(tx, "user.created", user_id, {"user": user})
    except DuplicateRow:
        # Lost a race with a concurrent registration of the same name.
        raise Invalid(await _taken_fields(db, username, email) or {"username": "Username is already taken"}) from None
    return User(user_id, username, email, is_moderator)


async def authenticate(db: Database, identifier: str, password: str) -> User:
    """The active user whose username or email (any letter case) and password match."""
    row = await db.fetch_one(
        "SELECT user_id, username, email, is_moderator, is_active, password_hash FROM users "
        "WHERE lower(username) = lower(:identifier) OR lower(email) = lower(:identifier)",
        {"identifier": identifier},
    )
    password_ok = await verify_password(row["password_hash"] if row else None, password)
    if row is None or not password_ok or not row["is_active"]:
        raise Unauthenticated(BAD_CREDENTIALS)
    return User.from_row(row)


async def find_by_username(db: Database, username: str) -> User | None:
    row = await db.fetch_one(
        "SELECT user_id, username, email, is_moderator FROM users WHERE lower(username) = lower(:username)",
        {"username": username},
    )
    return None if row is None else User.from_row(row)


async def hold(tx: Transaction, user: User) -> None:
    """Hold the user's row for the rest of the transaction (PostgreSQL; SQLite runs one write transaction
    at a time anyway), so two concurrent creations of one user's things cannot both pass a per-user count."""
    if tx.dialect == "postgresql":
        await tx.execute("SELECT user_id FROM users WHERE user_id = :uid FOR UPDATE", {"uid": user.user_id})
