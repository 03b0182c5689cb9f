"""The account as the platform API shows it: profile fields (display name, avatar asset, time zone), its
plan, password change and account deletion."""

from __future__ import annotations

import zoneinfo
from typing import Any, Literal

from typing_extensions import TypedDict

from server import clock, login_sessions, subscriptions, webhook_events
from server.accounts import User
from server.database import Database, Transaction
from server.errors import Invalid, NotFound
from server.plans import PLAN_NAMES

_PROFILE = (
    "SELECT u.user_id, u.username, u.email, u.is_moderator, u.created_at, p.display_name, p.avatar_asset_id, "
    "p.time_zone, COALESCE(p.plan, 'free') AS plan FROM users u LEFT JOIN user_profiles p ON p.user_id = u.user_id "
    "WHERE u.user_id = :uid"
)


class Profile(TypedDict):
    id: int
    object: Literal["user"]
    username: str
    email: str
    display_name: str  # the username until one is set
    avatar_asset_id: int | None  # one of the user's image assets
    time_zone: str  # an IANA name, UTC until one is set
    plan: str  # free, basic, premium or enterprise (a host may name others)
    is_moderator: bool
    created_at: str


def _public(row: dict[str, Any]) -> Profile:
    return {
        "id": row["user_id"],
        "object": "user",
        "username": row["username"],
        "email": row["email"],
        "display_name": row["display_name"] or row["username"],
        "avatar_asset_id": row["avatar_asset_id"],
        "time_zone": row["time_zone"] or "UTC",
        "plan": row["plan"],
        "is_moderator": bool(row["is_moderator"]),
        "created_at": clock.iso(row["created_at"]),
    }


async def profile(db: Database | Transaction, user: User) -> Profile:
    row = await db.fetch_one(_PROFILE, {"uid": user.user_id})
    if row is None:
        raise NotFound("User not found")
    return _public(row)


def valid_time_zone(name: str) -> bool:
    """An IANA time zone name (Europe/Paris, UTC), from the tz database Python reads."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def _ensure_row(db: Any, user_id: int) -> None:
    await db.execute(
        "INSERT INTO user_profiles (user_id, updated_at) VALUES (:uid, :now) ON CONFLICT (user_id) DO NOTHING",
        {"uid": user_id, "now": clock.now_text()},
    )


async def update(db: Database, user: User, changes: dict[str, Any]) -> Profile:
    """Change the given profile fields (display_name, avatar_asset_id, time_zone; null resets one).
    The avatar must be an image asset of the user; the time zone an IANA name."""
    zone = changes.get("time_zone")
    if zone is not None and not valid_time_zone(zone):
        raise Invalid(
            {"time_zone": "Time zone must be an IANA name such as Europe/Paris or UTC"},
            codes={"time_zone": "invalid_time_zone"},
        )
    async with db.transaction() as tx:
        avatar = changes.get("avatar_asset_id")
        if avatar is not None:
            kind = await tx.fetch_val(
                "SELECT asset_type FROM assets WHERE asset_id = :id AND user_id = :uid",
                {"id": avatar, "uid": user.user_id},
            )
            if kind is None or kind == "audio":
                raise Invalid({"avatar_asset_id": "Avatar must be one of your image assets"})
        await _ensure_row(tx, user.user_id)
        for column in ("display_name", "avatar_asset_id", "time_zone"):
            if column in changes:
                await tx.execute(
                    f"UPDATE user_profiles SET {column} = :value, updated_at = :now WHERE user_id = :uid",
                    {"value": changes[column], "now": clock.now_text(), "uid": user.user_id},
                )
        changed = await profile(tx, user)
        await webhook_events.record(tx, "user.updated", user.user_id, {"user": changed})
    return changed


async def set_plan(db: Database, username: str, plan: str) -> User:
    """Put the account on a plan (the host's command line): an active subscription to it, with no paid
    period, and its webhook event."""
    if plan not in PLAN_NAMES:
        raise Invalid({"plan": f"Plan must be one of: {', '.join(PLAN_NAMES)}"})
    row = await db.fetch_one(
        "SELECT user_id, username, email, is_moderator FROM users WHERE lower(username) = lower(:name)",
        {"name": username},
    )
    if row is None:
        raise NotFound("User not found")
    async with db.transaction() as tx:
        await subscriptions.change(tx, row["user_id"], plan)
    login_sessions.forget(db, row["user_id"])  # the plan is part of a remembered login session
    return User.from_row(row)
