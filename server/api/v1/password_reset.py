"""/v1/auth/password-reset: ask for a reset token by email (always 202), and set a new password with it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import accounts, password_reset
from server.api.auth import limit_attempts
from server.api.requests import Body, json_body
from server.api.v1.responses import no_content, ok
from server.services import services


class ResetRequest(Body):
    email: str = Field(title="Email", min_length=1, max_length=accounts.MAX_EMAIL)


class ResetConfirmation(Body):
    token: str = Field(title="Token", min_length=1, max_length=200)
    new_password: str = Field(title="New password", min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)


class ResetRequested(TypedDict):
    object: Literal["password_reset"]
    message: str  # the same for any address, so the answer tells nobody whether it has an account


async def request_reset(request: Request) -> Response:
    await limit_attempts(request, "password_reset")
    body = await json_body(request, ResetRequest)
    found = services(request)
    await password_reset.request_reset(found.event_log, found.mailer, found.settings.public_url, body.email)
    answer: ResetRequested = {
        "object": "password_reset",
        "message": "If an account has this address, a reset token is on its way",
    }
    return ok(answer, status=202)


async def confirm(request: Request) -> Response:
    await limit_attempts(request, "password_reset")
    body = await json_body(request, ResetConfirmation)
    await password_reset.confirm(services(request).event_log, body.token, body.new_password)
    return no_content()
