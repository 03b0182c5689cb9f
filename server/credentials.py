"""Who is calling: the one place a request's credentials become a Caller, for HTTP and the realtime
transports alike.

A caller presents either `Authorization: Bearer <token>` (a login session token or an API key,
`vtt_live_...`) or the `sessionToken` cookie. A bearer wins over the cookie, and a bad bearer is not
rescued by a cookie. Only cookie callers need the CSRF header on state-changing requests: a browser
never attaches an Authorization header by itself, so a bearer cannot be ridden by another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server import api_keys, login_sessions
from server.accounts import User
from server.database import Database
from server.errors import Unauthenticated
from server.login_sessions import LoginSession
from server.plans import Plan, plan_named

Via = Literal["cookie", "bearer", "api_key"]
API_KEY_LOGIN = "key:"


@dataclass(frozen=True)
class Caller:
    user: User
    via: Via
    plan: Plan
    session: LoginSession | None = None  # cookie and bearer callers
    api_key_id: int | None = None
    can_write: bool = True  # False for a read-scoped API key

    @property
    def needs_csrf(self) -> bool:
        return self.via == "cookie"

    @property
    def csrf_token(self) -> str | None:
        return self.session.csrf_token if self.session else None

    @property
    def login_hash(self) -> str:
        """What the hub rechecks on the caller's open connections (`still_valid`): the login session's token
        hash, or `key:<id>` for an API key. The logout broadcast closes them at once; the recheck also
        when that broadcast was lost."""
        return self.session.token_hash if self.session else f"{API_KEY_LOGIN}{self.api_key_id}"

    @property
    def quota_key(self) -> str:
        """What the request quota counts: each API key on its own, else the user."""
        return f"key:{self.api_key_id}" if self.api_key_id is not None else f"user:{self.user.user_id}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer` header; None for no header or another scheme."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def identify(
    db: Database, secret_key: str, plans: tuple[Plan, ...], *, authorization: str | None, cookie: str | None
) -> Caller | None:
    """The caller, or None when the credentials are missing, unknown, expired or revoked."""
    token = bearer_token(authorization)
    if token is not None:
        if api_keys.is_api_key(token):
            found = await api_keys.resolve(db, token)
            if found is None:
                return None
            use, plan = found
            return Caller(use.user, "api_key", plan_named(plans, plan), None, use.key_id, use.scope == "write")
        session = await login_sessions.resolve(db, secret_key, token)
        return None if session is None else Caller(session.user, "bearer", plan_named(plans, session.plan), session)
    if cookie:
        session = await login_sessions.resolve(db, secret_key, cookie)
        return None if session is None else Caller(session.user, "cookie", plan_named(plans, session.plan), session)
    return None


async def authentication(
    db: Database, secret_key: str, plans: tuple[Plan, ...], *, authorization: str | None, cookie: str | None
) -> Caller:
    """The caller; Unauthenticated without valid credentials. Both transports and every HTTP route
    authenticate through `identify` or this."""
    caller = await identify(db, secret_key, plans, authorization=authorization, cookie=cookie)
    if caller is None:
        raise Unauthenticated()
    return caller


async def still_valid(db: Database, logins: set[str]) -> set[str]:
    """Which of the connections' `login_hash` values still hold: live login sessions and unrevoked API keys,
    of active users."""
    keys = {login for login in logins if login.startswith(API_KEY_LOGIN)}
    valid = await login_sessions.live(db, logins - keys)
    unrevoked = await api_keys.unrevoked(db, {int(key.removeprefix(API_KEY_LOGIN)) for key in keys})
    return valid | {f"{API_KEY_LOGIN}{key_id}" for key_id in unrevoked}
