"""Alembic's entry point: run the migrations on the connection `server.schema` hands over.

The server never runs Alembic from its command line or an alembic.ini: `server.schema` builds the
`Config` in code, opens the connection, begins the transaction (BEGIN IMMEDIATE on SQLite, an advisory
lock on PostgreSQL) and passes the connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# One transaction for the whole upgrade: on both databases a failed revision leaves the schema as it was.
context.configure(connection=connection, transactional_ddl=True, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
