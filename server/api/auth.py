"""/api/auth/*: login, registration, logout and the session check the legacy client starts with."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import accounts, login_sessions
from server.api.envelope import success
from server.api.requests import (
    Body,
    authenticated,
    json_body,
    login_session,
)
from server.login_sessions import COOKIE_NAME
from server.proxy import client_address, is_https
from server.rate_limit import count_attempt
from server.services import services


class LoggedIn(accounts.PublicUser):
    csrf_token: str  # send it as X-CSRF-Token with every POST, PUT, PATCH and DELETE


class LoggedOut(TypedDict):
    pass


class Verified(TypedDict):
    authenticated: bool
    user: accounts.PublicUser | None
    csrf_token: str | None


Username = Annotated[str, StringConstraints(pattern=accounts.USERNAME_PATTERN)]
Email = Annotated[str, StringConstraints(max_length=accounts.MAX_EMAIL, pattern=accounts.EMAIL_PATTERN)]


class Login(Body):
    username: str = Field(title="Username or email", min_length=1, max_length=255)
    password: str = Field(title="Password", min_length=1, max_length=1024)


class Registration(Body):
    username: Username = Field(title="Username", description=accounts.USERNAME_RULE)
    email: Email = Field(title="Email", description=accounts.EMAIL_RULE)
    password: str = Field(title="Password", min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)


async def limit_attempts(request: Request, action: str) -> None:
    settings = services(request).settings
    await count_attempt(
        services(request).db,
        f"{action}:{client_address(request, settings)}",
        settings.rate_limit_attempts,
        settings.rate_limit_window,
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=services(request).settings.session_lifetime,
        httponly=True,
        samesite="lax",
        secure=is_https(request, services(request).settings),
        path="/",
    )


async def _logged_in(request: Request, user: accounts.User, message: str) -> Response:
    state = services(request)
    token, session = await login_sessions.start(state.db, state.secret_key, user, state.settings.session_lifetime)
    response = success({**user.public(), "csrf_token": session.csrf_token}, message)
    set_session_cookie(request, response, token)
    return response


async def login(request: Request) -> Response:
    await limit_attempts(request, "login")
    body = await json_body(request, Login)
    user = await accounts.authenticate(services(request).db, body.username, body.password)
    return await _logged_in(request, user, "Login successful")


async def register(request: Request) -> Response:
    await limit_attempts(request, "register")
    body = await json_body(request, Registration)
    user = await accounts.create_user(services(request).db, body.username, body.email, body.password)
    return await _logged_in(request, user, "Registration successful")


async def logout(request: Request) -> Response:
    caller = await authenticated(request)
    if caller.session is not None:
        await login_sessions.end(services(request).event_log, caller.session)
    response = success({}, "Logout successful")
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


async def verify(request: Request) -> Response:
    session = await login_session(request)
    if session is None:
        return success({"authenticated": False, "user": None, "csrf_token": None})
    return success({"authenticated": True, "user": session.user.public(), "csrf_token": session.csrf_token})
