"""Password reset by email, against a real SMTP server (aiosmtpd) on 127.0.0.1: the same answer for any
address, a single-use token by mail, the new password works and the old sessions end."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy

import httpx2 as httpx
import pytest

from server.settings import MailSettings, Settings
from tests.live import PASSWORD, Client, game_table
from tests.v1.conftest import Sink


@pytest.fixture
def settings(settings: Settings, smtp) -> Settings:
    return dataclasses.replace(settings, mail=MailSettings(host="127.0.0.1", port=smtp[1], starttls=False))


async def _mail(sink: Sink) -> email.message.EmailMessage:
    assert await asyncio.to_thread(sink.arrived.wait, 20)
    return sink.messages[-1]


async def test_a_reset_token_arrives_by_mail_works_once_and_ends_the_old_sessions(server, accounts, smtp):
    sink, _ = smtp
    account = await accounts()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        unknown = await anonymous.post("/v1/auth/password-reset", json={"email": "nobody@example.com"})
        known = await anonymous.post("/v1/auth/password-reset", json={"email": f"{account.username}@example.com"})
        assert unknown.status_code == known.status_code == 202 and unknown.json() == known.json()
        message = await _mail(sink)
        assert len(sink.messages) == 1 and message["To"] == f"{account.username}@example.com"
        lines = [line.strip() for line in message.get_content().splitlines()]
        token = lines[lines.index("Your reset token, valid for one hour and once:") + 2]
        bad = await anonymous.post(
            "/v1/auth/password-reset/confirm", json={"token": "x" * 43, "new_password": "n" * 12}
        )
        assert bad.status_code == 400 and bad.json()["details"][0]["code"] == "invalid_token"
        done = await anonymous.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": "a brand new secret"}
        )
        assert done.status_code == 204, done.text
        again = await anonymous.post("/v1/auth/password-reset/confirm", json={"token": token, "new_password": "x" * 12})
        assert again.status_code == 400
        assert (await account.api.get("/v1/users/me")).status_code == 401  # the old session ended
        old = await anonymous.post("/v1/auth/login", json={"identifier": account.username, "password": PASSWORD})
        new = await anonymous.post(
            "/v1/auth/login", json={"identifier": account.username, "password": "a brand new secret"}
        )
        assert old.status_code == 401 and new.status_code == 200


async def _invite(dm: Client, title: str, username: str) -> int:
    session = await dm.ok(
        "/api/session/create.php", {"session_title": title, "session_datetime": "2099-03-01 19:00:00"}
    )
    await dm.ok("/api/session/invite-player.php", {"session_id": session["session_id"], "username": username})
    return session["session_id"]


async def test_an_invitation_reaches_the_invitees_socket_and_mailbox_unless_they_turned_that_off(server, smtp):
    sink, _ = smtp
    _, [player], first_session = await game_table(server, players=1)
    socket = await player.socket(first_session)
    dm = await Client(server).register()
    session_id = await _invite(dm, "Castle Amber", player.user["username"])
    async with asyncio.timeout(10):
        while (frame := await socket.frame())["type"] != "notification":
            pass
    assert frame["notification"]["data"]["session_id"] == session_id
    await sink.nth(2)  # the invitations to the first table and to this one
    [mail] = [m for m in sink.messages if "Castle Amber" in m["Subject"]]
    assert mail["To"] == player.user["email"] and dm.user["username"] in mail.get_content()
    csrf = {"X-CSRF-Token": player.csrf}
    off = {"invitation": {"in_app": False, "email": False}}
    changed = await player.http.patch("/v1/notifications/preferences", json=off, headers=csrf)
    assert changed.status_code == 200
    assert changed.json()["invitation"] == {"in_app": False, "email": False, "push": True}
    assert changed.json()["webhook_disabled"] == {"in_app": True, "email": True, "push": True}
    stored = len((await player.http.get("/v1/notifications")).json()["data"])
    await _invite(dm, "Tomb of Horrors", player.user["username"])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        await anonymous.post("/v1/auth/password-reset", json={"email": player.user["email"]})
    barrier = await sink.nth(len(sink.messages) + 1)
    assert "Reset" in barrier["Subject"] and not any("Tomb" in m["Subject"] for m in sink.messages)
    assert len((await player.http.get("/v1/notifications")).json()["data"]) == stored
