"""Reminders of game sessions starting within the hour: one row per member and game session, written in
the transaction that notifies the member, so each is reminded once however many processes look.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
CREATE TABLE session_reminders (
    session_id INTEGER NOT NULL REFERENCES game_sessions (session_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    reminded_at TEXT NOT NULL,
    PRIMARY KEY (session_id, user_id)
)
""",
    "CREATE INDEX game_sessions_start ON game_sessions (status, session_datetime)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX game_sessions_start")
    op.execute("DROP TABLE session_reminders")
