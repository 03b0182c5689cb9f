"""Changing the password and closing an account.

Closing keeps the table's history whole for the other players: the account row stays, deactivated and
anonymised ("deleted user #ID", no email, no usable password), so their characters, events and the
game sessions they ran still read correctly. What the account owned alone goes: login sessions, API
keys, profile, assets (files too, unless another asset shares the bytes), the campaigns it owns (their
game sessions stay, out of the campaign) and its campaign memberships. The game sessions it runs that
are scheduled or active are ended (status completed, with the usual `session_status_changed` event,
so players' screens follow), and its seats in other game sessions become `removed`."""

from __future__ import annotations

from server import assets, clock, game_sessions, login_sessions
from server.accounts import User
from server.database import Database
from server.errors import Invalid
from server.event_log import EventLog
from server.login_sessions import LoginSession
from server.passwords import hash_password, verify_password
from server.settings import Settings


async def _check_password(db: Database, user: User, password: str, field: str) -> None:
    stored = await db.fetch_val("SELECT password_hash FROM users WHERE user_id = :uid", {"uid": user.user_id})
    if not await verify_password(stored, password):
        raise Invalid({field: "The password is not correct"}, codes={field: "incorrect"})


async def change_password(log: EventLog, user: User, current: str, new: str, keep: LoginSession | None) -> None:
    """Set a new password after checking the current one; every other login session of the user ends,
    and the user's sockets close (the ones of the session that asked reconnect with its credentials)."""
    db = log.db
    await _check_password(db, user, current, "current_password")
    new_hash = await hash_password(new)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE users SET password_hash = :hash WHERE user_id = :uid", {"hash": new_hash, "uid": user.user_id}
        )
    await login_sessions.end_all(db, user, keep=keep)
    await log.logged_out(user.user_id)


async def _end_run_sessions(log: EventLog, user: User) -> None:
    rows = await log.db.fetch_all(
        "SELECT session_id FROM game_sessions WHERE dm_user_id = :uid AND status IN ('scheduled', 'active')",
        {"uid": user.user_id},
    )
    for row in rows:
        async with log.change(row["session_id"]) as change:
            current = await change.tx.fetch_val(
                "SELECT status FROM game_sessions WHERE session_id = :sid", {"sid": row["session_id"]}
            )
            if current not in ("scheduled", "active"):
                continue
            await change.tx.execute(
                "UPDATE game_sessions SET status = 'completed' WHERE session_id = :sid", {"sid": row["session_id"]}
            )
            await change.record(
                row["session_id"],
                "session_status_changed",
                {"session_id": row["session_id"], "old_status": current, "status": "completed"},
            )
            await game_sessions.record_status_webhook(change.tx, row["session_id"], current)


async def close(log: EventLog, settings: Settings, user: User, password: str) -> None:
    """Close the account (see the module's docstring for what stays and what goes)."""
    db = log.db
    await _check_password(db, user, password, "password")
    anonymous = f"deleted user #{user.user_id}"
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE users SET username = :name, email = :name, password_hash = '!', is_active = 0 WHERE user_id = :uid",
            {"name": anonymous, "uid": user.user_id},
        )
        await tx.execute("DELETE FROM login_sessions WHERE user_id = :uid", {"uid": user.user_id})
        await tx.execute("DELETE FROM api_keys WHERE user_id = :uid", {"uid": user.user_id})
        await tx.execute(
            "DELETE FROM push_deliveries WHERE subscription_id IN "
            "(SELECT subscription_id FROM push_subscriptions WHERE user_id = :uid)",
            {"uid": user.user_id},
        )
        await tx.execute("DELETE FROM push_subscriptions WHERE user_id = :uid", {"uid": user.user_id})
        await tx.execute("DELETE FROM user_profiles WHERE user_id = :uid", {"uid": user.user_id})
        await tx.execute("DELETE FROM subscriptions WHERE user_id = :uid", {"uid": user.user_id})
        await tx.execute(
            "UPDATE game_sessions SET campaign_id = NULL WHERE campaign_id IN "
            "(SELECT campaign_id FROM campaigns WHERE owner_user_id = :uid)",
            {"uid": user.user_id},
        )
        await tx.execute(
            "DELETE FROM campaign_members WHERE user_id = :uid OR campaign_id IN "
            "(SELECT campaign_id FROM campaigns WHERE owner_user_id = :uid)",
            {"uid": user.user_id},
        )
        await tx.execute("DELETE FROM campaigns WHERE owner_user_id = :uid", {"uid": user.user_id})
        await tx.execute(
            "UPDATE session_players SET status = 'removed', responded_at = :now WHERE user_id = :uid",
            {"uid": user.user_id, "now": clock.now_text()},
        )
    login_sessions.forget(db, user.user_id)
    await assets.delete_all(db, settings.upload_dir, user)
    await _end_run_sessions(log, user)
    await log.logged_out(user.user_id)
