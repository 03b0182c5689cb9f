"""Epoch seconds in 64 bits: login_sessions.created_at and expires_at, login_attempts.attempted_at and
password_resets.expires_at were INTEGER, which PostgreSQL keeps in 32 bits: they would overflow in
January 2038 (a login made then, or one lasting past it, would fail). They become BIGINT.

PostgreSQL changes the column types in place. SQLite keeps every INTEGER in up to 64 bits already; its
tables are rebuilt with the new declared type all the same, so that both databases say what schema.sql says.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = {
    "login_sessions": ("created_at", "expires_at"),
    "login_attempts": ("attempted_at",),
    "password_resets": ("expires_at",),
}
# The tables as schema.sql has them now, for SQLite's rebuild ({name} is the new table's name).
SQLITE_TABLES = {
    "login_sessions": """
CREATE TABLE {name} (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)""",
    "login_attempts": """
CREATE TABLE {name} (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key TEXT NOT NULL,
    attempted_at BIGINT NOT NULL
)""",
    "password_resets": """
CREATE TABLE {name} (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
)""",
}
INDEXES = {
    "login_sessions": ("CREATE INDEX login_sessions_user ON login_sessions (user_id)",),
    "login_attempts": ("CREATE INDEX login_attempts_client ON login_attempts (client_key, attempted_at)",),
    "password_resets": ("CREATE INDEX password_resets_user ON password_resets (user_id)",),
}


def _postgres(column_type: str) -> None:
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {column_type}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def _sqlite_rebuild(declared: str) -> None:
    """The new table beside the old, the rows copied, the old dropped, the new renamed (SQLite's documented
    way to change a column); nothing refers to these tables. The AUTOINCREMENT counter is carried over."""
    bind = op.get_bind()
    for table, create in SQLITE_TABLES.items():
        seq = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
        op.execute(create.format(name=f"{table}_new").replace("BIGINT", declared))
        op.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
        if seq is not None:
            op.execute(f"UPDATE sqlite_sequence SET seq = max(seq, {int(seq)}) WHERE name = '{table}'")
        for index in INDEXES[table]:
            op.execute(index)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres("BIGINT")
    else:
        _sqlite_rebuild("BIGINT")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres("INTEGER")
    else:
        _sqlite_rebuild("INTEGER")
