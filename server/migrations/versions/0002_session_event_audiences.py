"""The event log's audiences of a set of users and their redacted form: session_events.audience_user_ids
and session_events.redacted_data (server/channels/event_log.py, Event).

They were added to schema.sql just before migrations existed, so a database made in between already has
them: only a missing column is added.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("audience_user_ids", "redacted_data")


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("session_events")}
    for name in COLUMNS:
        if name not in present:
            op.execute(f"ALTER TABLE session_events ADD COLUMN {name} TEXT")


def downgrade() -> None:
    for name in COLUMNS:
        op.execute(f"ALTER TABLE session_events DROP COLUMN {name}")
