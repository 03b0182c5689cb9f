"""Reminders of a game session starting within the hour, sent by two server processes' workers on one
database (SQLite and PostgreSQL): each member gets one mail in the real SMTP sink and one in-app
notification, as their preferences allow, and nobody is reminded twice."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from server.database import Database
from server.settings import MailSettings, Settings
from tests.live import Client, LiveServer, game_table


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, settings: Settings, smtp) -> Settings:
    url = settings.database_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    mail = MailSettings(host="127.0.0.1", port=smtp[1], starttls=False)
    return dataclasses.replace(settings, database_url=url, mail=mail, reminder_poll_interval=0.02)


async def _starts_in(settings: Settings, session_id: int, minutes: int) -> str:
    """Time passes: the game session created for 2099 now starts in `minutes` (there is no reschedule API)."""
    when = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
    db = Database(settings.database_url)
    await db.connect()
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE game_sessions SET session_datetime = :when WHERE session_id = :sid",
                {"when": when, "sid": session_id},
            )
    finally:
        await db.disconnect()
    return when


async def _reminders(client: Client) -> list[dict]:
    listed = (await client.http.get("/v1/notifications")).json()["data"]
    return [note for note in listed if note["kind"] == "session_starting"]


async def test_each_member_is_reminded_once_by_mail_and_in_the_app_as_they_chose(server, settings, smtp):
    sink, _ = smtp
    second = await LiveServer(settings).start()  # another process's worker, on the same database
    try:
        dm, [mailed, no_mail, no_app], session_id = await game_table(server, players=3)
        far_dm, _, _ = await game_table(server, players=0)  # 2099: nobody is reminded of it
        for player, off in ((no_mail, {"email": False}), (no_app, {"in_app": False})):
            changed = await player.http.patch(
                "/v1/notifications/preferences", json={"session_starting": off}, headers={"X-CSRF-Token": player.csrf}
            )
            assert changed.status_code == 200, changed.text
        when = await _starts_in(settings, session_id, 30)
        await sink.matching(" starts at ", 3)  # the DM's, `mailed`'s and `no_app`'s
        barrier_dm, _, barrier = await game_table(server, players=0)
        await _starts_in(settings, barrier, 20)
        reminders = await sink.matching(" starts at ", 4)
        assert len(reminders) == 4 and reminders[3]["To"] == barrier_dm.user["email"]
        recipients = sorted(message["To"] for message in reminders[:3])
        assert recipients == sorted(client.user["email"] for client in (dm, mailed, no_app))
        message = reminders[0]
        assert "Keep on the Borderlands" in message["Subject"] and when in message.get_content()
        for client, expected in ((dm, 1), (mailed, 1), (no_mail, 1), (no_app, 0), (far_dm, 0)):
            notes = await _reminders(client)
            assert len(notes) == expected
        [note] = await _reminders(mailed)
        assert note["data"] == {
            "session_id": session_id,
            "session_title": "Keep on the Borderlands",
            "starts_at": when.replace(" ", "T") + "Z",
        }
    finally:
        await second.stop()
