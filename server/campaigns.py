"""Campaigns: a DM's long-running story, its members (owner, dm, player) and the game sessions that
belong to it. Only members see a campaign (anyone else gets NotFound, so ids reveal nothing); only its
owner changes or deletes it and manages its members. The plan bounds how many campaigns one owns."""

from __future__ import annotations

from typing import Any, Literal, cast

from typing_extensions import TypedDict

from server import accounts, clock, webhook_events
from server.accounts import User, find_by_username
from server.database import Database, Transaction
from server.errors import Forbidden, Invalid, NotFound, SubscriptionRequired
from server.plans import Plan

Role = Literal["owner", "dm", "player"]
MAX_MEMBERS = 100
_CAMPAIGN = (
    "SELECT c.campaign_id, c.owner_user_id, c.name, c.system, c.description, c.created_at, c.updated_at, m.role, "
    "(SELECT count(*) FROM campaign_members n WHERE n.campaign_id = c.campaign_id) AS member_count "
    "FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.campaign_id AND m.user_id = :uid"
)


class Campaign(TypedDict):
    id: int
    object: Literal["campaign"]
    name: str
    system: str  # the rules it is played with, "becmi" unless said otherwise
    description: str
    owner_id: int
    role: Role  # the caller's
    member_count: int  # the owner included
    created_at: str
    updated_at: str


class CampaignMember(TypedDict):
    object: Literal["campaign_member"]
    user_id: int
    username: str
    role: Role
    added_at: str


class CampaignSession(TypedDict):
    object: Literal["game_session"]
    session_id: int
    dm_user_id: int
    session_title: str
    session_datetime: str
    status: Literal["scheduled", "active", "completed"]


def _public(row: dict[str, Any]) -> Campaign:
    return {
        "id": row["campaign_id"],
        "object": "campaign",
        "name": row["name"],
        "system": row["system"],
        "description": row["description"],
        "owner_id": row["owner_user_id"],
        "role": row["role"],
        "member_count": row["member_count"],
        "created_at": clock.iso(row["created_at"]),
        "updated_at": clock.iso(row["updated_at"]),
    }


async def get(db: Database | Transaction, user: User, campaign_id: int) -> Campaign:
    """The campaign as its member sees it; NotFound for anyone else."""
    row = await db.fetch_one(_CAMPAIGN + " WHERE c.campaign_id = :cid", {"uid": user.user_id, "cid": campaign_id})
    if row is None:
        raise NotFound("Campaign not found")
    return _public(row)


async def _require_owner(db: Database | Transaction, user: User, campaign_id: int) -> Campaign:
    campaign = await get(db, user, campaign_id)
    if campaign["role"] != "owner":
        raise Forbidden("Only the campaign's owner can do this")
    return campaign


async def create(db: Database, owner: User, plan: Plan, fields: dict[str, Any]) -> Campaign:
    async with db.transaction() as tx:
        await accounts.hold(tx, owner)
        owned = await tx.fetch_val("SELECT count(*) FROM campaigns WHERE owner_user_id = :uid", {"uid": owner.user_id})
        if owned >= plan.campaigns:
            raise SubscriptionRequired(
                f"The {plan.name} plan allows {plan.campaigns} campaigns; delete one or move to a larger plan"
            )
        now = clock.now_text()
        campaign_id = await tx.fetch_val(
            "INSERT INTO campaigns (owner_user_id, name, system, description, created_at, updated_at) "
            "VALUES (:uid, :name, :system, :description, :now, :now) RETURNING campaign_id",
            {"uid": owner.user_id, "now": now, **fields},
        )
        await tx.execute(
            "INSERT INTO campaign_members (campaign_id, user_id, role, added_at) VALUES (:cid, :uid, 'owner', :now)",
            {"cid": campaign_id, "uid": owner.user_id, "now": now},
        )
        campaign = await get(tx, owner, campaign_id)
        await webhook_events.record(tx, "campaign.created", owner.user_id, {"campaign": campaign})
        return campaign


async def list_for(db: Database, user: User, limit: int, offset: int) -> tuple[list[Campaign], int]:
    """The campaigns the user is a member of (owner included), newest first."""
    rows = await db.fetch_all(
        _CAMPAIGN + " ORDER BY c.campaign_id DESC LIMIT :limit OFFSET :offset",
        {"uid": user.user_id, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val("SELECT count(*) FROM campaign_members WHERE user_id = :uid", {"uid": user.user_id})
    return [_public(row) for row in rows], total


async def update(db: Database, user: User, campaign_id: int, changes: dict[str, Any]) -> Campaign:
    async with db.transaction() as tx:
        await _require_owner(tx, user, campaign_id)
        for column in ("name", "system", "description"):
            if column in changes:
                await tx.execute(
                    f"UPDATE campaigns SET {column} = :value, updated_at = :now WHERE campaign_id = :cid",
                    {"value": changes[column], "now": clock.now_text(), "cid": campaign_id},
                )
        return await get(tx, user, campaign_id)


async def delete(db: Database, user: User, campaign_id: int) -> None:
    """Delete the campaign and its memberships; its game sessions stay, no longer in a campaign."""
    async with db.transaction() as tx:
        await _require_owner(tx, user, campaign_id)
        await tx.execute("UPDATE game_sessions SET campaign_id = NULL WHERE campaign_id = :cid", {"cid": campaign_id})
        await tx.execute("DELETE FROM campaign_members WHERE campaign_id = :cid", {"cid": campaign_id})
        await tx.execute("DELETE FROM campaigns WHERE campaign_id = :cid", {"cid": campaign_id})


_MEMBER = (
    "SELECT m.user_id, u.username, m.role, m.added_at FROM campaign_members m JOIN users u ON u.user_id = m.user_id "
    "WHERE m.campaign_id = :cid"
)


def _member(row: dict[str, Any]) -> CampaignMember:
    return {
        "object": "campaign_member",
        "user_id": row["user_id"],
        "username": row["username"],
        "role": row["role"],
        "added_at": clock.iso(row["added_at"]),
    }


async def members(db: Database, user: User, campaign_id: int) -> list[CampaignMember]:
    await get(db, user, campaign_id)
    rows = await db.fetch_all(_MEMBER + " ORDER BY m.added_at, m.user_id", {"cid": campaign_id})
    return [_member(row) for row in rows]


async def add_member(db: Database, owner: User, campaign_id: int, username: str, role: Role) -> CampaignMember:
    """Add a user as `dm` or `player`, or change the role of a member (not the owner's)."""
    newcomer = await find_by_username(db, username)
    if newcomer is None:
        raise Invalid({"username": "No user has this username"}, codes={"username": "not_found"})
    async with db.transaction() as tx:
        await _require_owner(tx, owner, campaign_id)
        if newcomer.user_id == owner.user_id:
            raise Invalid({"username": "The owner is a member already"})
        count = await tx.fetch_val(
            "SELECT count(*) FROM campaign_members WHERE campaign_id = :cid", {"cid": campaign_id}
        )
        if count >= MAX_MEMBERS:
            raise Invalid({"username": f"A campaign has at most {MAX_MEMBERS} members"})
        now = clock.now_text()
        await tx.execute(
            "INSERT INTO campaign_members (campaign_id, user_id, role, added_at) VALUES (:cid, :uid, :role, :now) "
            "ON CONFLICT (campaign_id, user_id) DO UPDATE SET role = :role",
            {"cid": campaign_id, "uid": newcomer.user_id, "role": role, "now": now},
        )
        row = await tx.fetch_one(_MEMBER + " AND m.user_id = :uid", {"cid": campaign_id, "uid": newcomer.user_id})
    assert row is not None
    return _member(row)


async def remove_member(db: Database, user: User, campaign_id: int, member_id: int) -> None:
    """The owner removes a member, or a member leaves; the owner cannot leave (delete the campaign)."""
    async with db.transaction() as tx:
        campaign = await get(tx, user, campaign_id)
        if member_id != user.user_id and campaign["role"] != "owner":
            raise Forbidden("Only the campaign's owner can remove other members")
        if member_id == campaign["owner_id"]:
            raise Invalid({"user_id": "The owner cannot leave the campaign; delete it instead"})
        found = await tx.fetch_val(
            "SELECT count(*) FROM campaign_members WHERE campaign_id = :cid AND user_id = :uid",
            {"cid": campaign_id, "uid": member_id},
        )
        if not found:
            raise NotFound("No such member")
        await tx.execute(
            "DELETE FROM campaign_members WHERE campaign_id = :cid AND user_id = :uid",
            {"cid": campaign_id, "uid": member_id},
        )


async def require_runnable(tx: Transaction, dm: User, campaign_id: int) -> None:
    """A game session may be put in a campaign by its owner or one of its DMs; any other campaign id
    (unknown, or someone else's) is refused alike, so ids reveal nothing."""
    role = await tx.fetch_val(
        "SELECT role FROM campaign_members WHERE campaign_id = :cid AND user_id = :uid",
        {"cid": campaign_id, "uid": dm.user_id},
    )
    if role not in ("owner", "dm"):
        raise Invalid(
            {"campaign_id": "No campaign with this id that you own or run as a DM"}, codes={"campaign_id": "not_found"}
        )


async def sessions_of(db: Database, user: User, campaign_id: int) -> list[CampaignSession]:
    """The campaign's game sessions (at most 500, by date), for its members."""
    await get(db, user, campaign_id)
    rows = await db.fetch_all(
        "SELECT session_id, dm_user_id, session_title, session_datetime, status FROM game_sessions "
        "WHERE campaign_id = :cid ORDER BY session_datetime, session_id LIMIT 500",
        {"cid": campaign_id},
    )
    return [
        cast(CampaignSession, {"object": "game_session", **row, "session_datetime": clock.iso(row["session_datetime"])})
        for row in rows
    ]
