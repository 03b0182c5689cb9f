"""Reminders of game sessions starting within the hour: each member (the DM and the accepted players) of a
scheduled game session whose `session_datetime` is less than an hour away gets one `session_starting`
notification in the app (live on their sockets) and one mail, each unless they turned that off.

Contract: once per member and game session, however many server processes run the reminder worker. The
claim is the row in `session_reminders` (primary key: game session, member), inserted with
`ON CONFLICT DO NOTHING` in the same transaction as the notification: of two processes inserting the
same row, the second waits for the first to commit (PostgreSQL's unique index; SQLite's single writer)
and then inserts nothing, so only the first notifies. A member who joins later within the hour is
reminded on the next poll. Mail goes out after the commit (server/mail.py): a process killed in between
loses that mail rather than sending it twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from server import clock, notifications
from server.database import Database
from server.event_log import EventLog
from server.mail import Mailer

log = logging.getLogger("server.reminders")
LEAD = timedelta(hours=1)  # how long before its start a game session's members are reminded
BATCH = 100  # members reminded per transaction

# Members of scheduled game sessions starting in (now, soon] that have not been reminded yet.
_DUE = """
SELECT m.session_id, m.user_id FROM (
    SELECT g.session_id, g.dm_user_id AS user_id FROM game_sessions g
    WHERE g.status = 'scheduled' AND g.session_datetime > :now AND g.session_datetime <= :soon
    UNION
    SELECT g.session_id, p.user_id FROM game_sessions g
    JOIN session_players p ON p.session_id = g.session_id AND p.status = 'accepted'
    WHERE g.status = 'scheduled' AND g.session_datetime > :now AND g.session_datetime <= :soon
) m JOIN users u ON u.user_id = m.user_id AND u.is_active = 1
WHERE NOT EXISTS (SELECT 1 FROM session_reminders r WHERE r.session_id = m.session_id AND r.user_id = m.user_id)
"""


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"now": clock.text(now), "soon": clock.text(now + LEAD)}


async def remind_due(db: Database, event_log: EventLog, mailer: Mailer) -> int:
    """Remind every member due a reminder now (in batches); returns how many were reminded."""
    reminded = 0
    while True:
        window = _window()
        if not await db.fetch_val(f"SELECT count(*) FROM ({_DUE} LIMIT 1) AS due", window):
            return reminded  # a read first: an idle poll costs no write transaction
        mails: list[tuple[str, str, str]] = []
        notes: list[tuple[int, dict[str, Any]]] = []
        async with db.transaction() as tx:
            claimed = await tx.fetch_all(
                "INSERT INTO session_reminders (session_id, user_id, reminded_at) "
                f"SELECT session_id, user_id, :now FROM ({_DUE} ORDER BY m.session_id, m.user_id LIMIT :batch) AS due "
                "WHERE true ON CONFLICT (session_id, user_id) DO NOTHING RETURNING session_id, user_id",
                {**window, "batch": BATCH},
            )
            for row in claimed:
                found = await tx.fetch_one(
                    "SELECT g.session_title, g.session_datetime, u.email FROM game_sessions g, users u "
                    "WHERE g.session_id = :sid AND u.user_id = :uid",
                    {"sid": row["session_id"], "uid": row["user_id"]},
                )
                assert found is not None
                title, starts = found["session_title"], found["session_datetime"]
                subject = f"{title} starts at {starts[11:16]} UTC"
                note = await notifications.record(
                    tx,
                    row["user_id"],
                    "session_starting",
                    subject,
                    {"session_id": row["session_id"], "session_title": title, "starts_at": clock.iso(starts)},
                )
                if note is not None:
                    notes.append((row["user_id"], note))
                if mailer.settings is not None and await notifications.wants(
                    tx, row["user_id"], "session_starting", "email"
                ):
                    text = f"Your game session {title} (#{row['session_id']}) starts at {starts} UTC.\n"
                    mails.append((found["email"], subject, text))
        for user_id, note in notes:
            await event_log.notified(user_id, note)
        for to, subject, text in mails:
            mailer.send_later(to, subject, text)
        reminded += len(claimed)
        if not claimed:
            return reminded  # another process took them


class SessionReminders:
    """The worker: polls every `interval` seconds while the app runs (started in its lifespan)."""

    def __init__(self, db: Database, event_log: EventLog, mailer: Mailer, interval: float) -> None:
        self.db, self.event_log, self.mailer, self.interval = db, event_log, mailer, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-reminders")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await remind_due(self.db, self.event_log, self.mailer)
            except Exception:
                log.exception("session reminders: a poll failed; trying again")
            await asyncio.sleep(self.interval)
