"""/v1/auth: log in for a session token (bearer or cookie), refresh it, log out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import accounts, clock, login_sessions, profiles
from server.api.auth import limit_attempts, set_session_cookie
from server.api.requests import COOKIE_NAME, Body, authenticated, json_body
from server.api.v1.responses import no_content, ok
from server.errors import BadRequest
from server.login_sessions import LoginSession
from server.services import services


class Login(Body):
    identifier: str = Field(title="Identifier", description="your username or email", min_length=1, max_length=255)
    password: str = Field(title="Password", min_length=1, max_length=1024)


class SessionToken(TypedDict):
    object: Literal["session_token"]
    token: str  # send it as `Authorization: Bearer <token>` (it is also set as the session cookie)
    token_type: Literal["Bearer"]
    expires_at: str
    csrf_token: str  # the X-CSRF-Token header of writes made with the cookie
    user: profiles.Profile


async def _token_answer(request: Request, user: accounts.User, token: str, session: LoginSession) -> Response:
    answer: SessionToken = {
        "object": "session_token",
        "token": token,
        "token_type": "Bearer",
        "expires_at": clock.iso_from_epoch(session.expires_at),
        "csrf_token": session.csrf_token,
        "user": await profiles.profile(services(request).db, user),
    }
    response = ok(answer)
    set_session_cookie(request, response, token)
    return response


async def login(request: Request) -> Response:
    await limit_attempts(request, "login")
    body = await json_body(request, Login)
    state = services(request)
    user = await accounts.authenticate(state.db, body.identifier, body.password)
    token, session = await login_sessions.start(state.db, state.secret_key, user, state.settings.session_lifetime)
    return await _token_answer(request, user, token, session)


def _session_of(caller_session: LoginSession | None, action: str) -> LoginSession:
    if caller_session is None:
        raise BadRequest(f"An API key cannot {action}: revoke it instead, or use a session token")
    return caller_session


async def refresh(request: Request) -> Response:
    """A new token with a new expiry; the presented one ends at once."""
    caller = await authenticated(request)
    old = _session_of(caller.session, "be refreshed")
    state = services(request)
    token, session = await login_sessions.start(
        state.db, state.secret_key, caller.user, state.settings.session_lifetime
    )
    await login_sessions.end(state.event_log, old)
    return await _token_answer(request, caller.user, token, session)


async def logout(request: Request) -> Response:
    caller = await authenticated(request)
    await login_sessions.end(services(request).event_log, _session_of(caller.session, "log out"))
    response = no_content()
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
