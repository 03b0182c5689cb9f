"""Support for the /v1 tests: an account logged in through /v1/auth/login, holding its bearer token."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest

from tests.live import PASSWORD, Client, LiveServer

_names = itertools.count(1)


@dataclass
class Account:
    """A registered user with a /v1 session token; `api` sends it as a bearer."""

    username: str
    token: str
    csrf: str
    user_id: int
    api: httpx.AsyncClient

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


async def login(base_url: str, identifier: str, password: str = PASSWORD) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anonymous:
        return await anonymous.post("/v1/auth/login", json={"identifier": identifier, "password": password})


@pytest.fixture
async def accounts(server: LiveServer) -> AsyncIterator[Callable[[], Awaitable[Account]]]:
    made: list[httpx.AsyncClient] = []

    async def make() -> Account:
        browser = Client(server)
        await browser.register(f"v1user{next(_names)}")
        assert browser.user is not None
        response = await login(server.url, browser.user["username"])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        api = httpx.AsyncClient(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {body['token']}"})
        made.append(api)
        return Account(browser.user["username"], body["token"], body["csrf_token"], body["user"]["id"], api)

    yield make
    for api in made:
        await api.aclose()
