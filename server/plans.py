"""Plans: what each account may use. Hosts assign a plan per account (`python -m server set-plan`);
accounts without one are on Free.

Requests are counted per user (session token or cookie) or per API key, in two moving windows: the
hourly quota and a burst window of BURST_WINDOW seconds (server/request_quota.py)."""

from __future__ import annotations

from dataclasses import dataclass

BURST_WINDOW = 60  # seconds: the burst limit is "at most N requests in any 60 seconds"
HOUR = 3600
MIB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    name: str
    requests_per_hour: int
    burst: int
    campaigns: int  # campaigns an account may own
    storage_bytes: int  # total size of its assets
    assets: int  # number of assets


FREE = Plan("free", 1_000, 50, 3, 100 * MIB, 500)
BASIC = Plan("basic", 10_000, 200, 25, 2_048 * MIB, 5_000)
PREMIUM = Plan("premium", 50_000, 500, 100, 20_480 * MIB, 20_000)
ENTERPRISE = Plan("enterprise", 500_000, 2_000, 1_000, 204_800 * MIB, 100_000)
DEFAULT_PLANS = (FREE, BASIC, PREMIUM, ENTERPRISE)
PLAN_NAMES = tuple(plan.name for plan in DEFAULT_PLANS)


def plan_named(plans: tuple[Plan, ...], name: str) -> Plan:
    """The plan of that name; an unknown name (a plan removed from the table) is Free."""
    for plan in plans:
        if plan.name == name:
            return plan
    return plans[0]
