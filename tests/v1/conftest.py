"""Support for the /v1 tests: an account logged in through /v1/auth/login, holding its bearer token; a real
SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
from aiosmtpd.controller import Controller

from tests.live import PASSWORD, Client, LiveServer, free_port

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


class Sink:
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.arrived.set()
        return "250 OK"

    async def nth(self, count: int) -> email.message.EmailMessage:
        """The `count`-th message received (1 for the first), once it has arrived."""
        async with asyncio.timeout(20):
            while len(self.messages) < count:
                self.arrived.clear()
                if len(self.messages) < count:
                    await asyncio.to_thread(self.arrived.wait, 1)
        return self.messages[count - 1]

    async def matching(self, subject_part: str, count: int) -> list[email.message.EmailMessage]:
        """The messages whose subject contains `subject_part`, once there are at least `count`."""
        async with asyncio.timeout(20):
            while len(found := [m for m in self.messages if subject_part in m["Subject"]]) < count:
                await self.nth(len(self.messages) + 1)
        return found


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()
