"""/v1/users/me: the caller's profile, its changes, password change and account deletion."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server import account_closure, profiles
from server.api.requests import COOKIE_NAME, Body, authenticated, json_body
from server.api.v1.responses import no_content, ok
from server.credentials import Caller
from server.errors import Forbidden, Invalid
from server.services import services


class ProfileChanges(Body):
    display_name: str | None = Field(default=None, title="Display name", min_length=1, max_length=50)
    avatar_asset_id: int | None = Field(default=None, title="Avatar asset ID", ge=1)
    time_zone: str | None = Field(default=None, title="Time zone", min_length=1, max_length=64)


async def me(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await profiles.profile(services(request).db, caller.user))


async def update_me(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, ProfileChanges)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid({"body": "Give at least one of display_name, avatar_asset_id, time_zone"})
    return ok(await profiles.update(services(request).db, caller.user, changes))


class PasswordChange(Body):
    current_password: str = Field(title="Current password", min_length=1, max_length=1024)
    new_password: str = Field(title="New password", min_length=8, max_length=1024)


class Closure(Body):
    password: str = Field(title="Password", min_length=1, max_length=1024)


def _needs_session(caller: Caller, action: str) -> None:
    """Account-level changes need the password and a login, not only a key a tool holds."""
    if caller.api_key_id is not None:
        raise Forbidden(f"An API key cannot {action}; log in and use the session token")


async def change_password(request: Request) -> Response:
    caller = await authenticated(request)
    _needs_session(caller, "change the password")
    body = await json_body(request, PasswordChange)
    log = services(request).event_log
    await account_closure.change_password(log, caller.user, body.current_password, body.new_password, caller.session)
    return no_content()


async def delete_me(request: Request) -> Response:
    caller = await authenticated(request)
    _needs_session(caller, "delete the account")
    body = await json_body(request, Closure)
    state = services(request)
    await account_closure.close(state.event_log, state.settings, caller.user, body.password)
    response = no_content()
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
