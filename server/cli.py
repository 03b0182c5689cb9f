"""python -m server serve [--host] [--port] [--demo] | migrate [--check] | create-user NAME --email E --password P
| set-plan NAME PLAN"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from server import accounts, logs, profiles, schema
from server.database import Database, DatabaseUnavailable
from server.errors import DomainError, Invalid
from server.plans import PLAN_NAMES
from server.settings import ConfigError, Settings, from_environment

DEMO_PLAYERS = ("demo_player1", "demo_player2")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="BECMI VTT real-time server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--demo", action="store_true", help="also create a demo DM, two demo players and a game")
    migrate = commands.add_parser("migrate", help="upgrade the database schema to this release's (serve does it too)")
    migrate.add_argument(
        "--check", action="store_true", help="change nothing: say where the database stands, exit 1 if behind"
    )
    user = commands.add_parser("create-user", help="create an account")
    user.add_argument("username")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--moderator", action="store_true", help="give the account moderator rights")
    user.add_argument("--inactive", action="store_true", help="create the account disabled (cannot log in)")
    plan = commands.add_parser("set-plan", help="put an account on a plan (its quotas and request limits)")
    plan.add_argument("username")
    plan.add_argument("plan", choices=PLAN_NAMES)
    return parser


async def _upgrade_schema(settings: Settings) -> tuple[schema.Status, schema.Status]:
    try:
        return await schema.upgrade(settings.database_url)
    except DatabaseUnavailable as exc:
        raise ConfigError(f"DATABASE_URL: cannot open the database ({exc})") from None


async def _set_plan(db: Database, args: argparse.Namespace) -> None:
    user = await profiles.set_plan(db, args.username, args.plan)
    print(f"{user.username} is on the {args.plan} plan")


async def _with_database(settings: Settings, work):  # type: ignore[no-untyped-def]
    await _upgrade_schema(settings)
    db = Database(settings.database_url)
    try:
        await db.connect()
    except Exception as exc:
        raise ConfigError(f"DATABASE_URL: cannot open the database ({exc})") from None
    try:
        return await work(db)
    finally:
        await db.disconnect()


async def _migrate(settings: Settings, check: bool) -> int:
    if check:
        try:
            found = await schema.status(settings.database_url)
        except DatabaseUnavailable as exc:
            raise ConfigError(f"DATABASE_URL: cannot open the database ({exc})") from None
        print(found.describe())
        if found.up_to_date:
            return 0
        print("run `python -m server migrate` to upgrade it (`serve` also does it at start)")
        return 1
    before, after = await _upgrade_schema(settings)
    if before == after:
        print(f"database schema is up to date (revision {after.head})")
    _report_upgrade(before, after)
    return 0


def _report_upgrade(before: schema.Status, after: schema.Status, say: Callable[[str], object] = print) -> None:
    if before != after:
        say(f"database schema upgraded from {', '.join(before.current) or 'nothing'} to revision {after.head}")


async def _create_user(db: Database, args: argparse.Namespace) -> None:
    # Trimmed as the API trims them, so the account can log in through it with what was typed here.
    username, email, password = args.username.strip(), args.email.strip(), args.password.strip()
    user = await accounts.create_user(
        db, username, email, password, is_moderator=args.moderator, is_active=not args.inactive
    )
    print(f"created user {user.username} (id {user.user_id})")


async def _create_demo(db: Database) -> None:
    from server import game_sessions
    from server.broadcast import Broadcast
    from server.event_log import EventLog

    if await accounts.find_by_username(db, "demo_dm") is not None:
        print("demo accounts exist already (demo_dm, demo_player1, demo_player2); their passwords were shown once")
        return
    passwords = {name: secrets.token_urlsafe(9) for name in ("demo_dm", *DEMO_PLAYERS)}
    users = {
        name: await accounts.create_user(db, name, f"{name}@example.com", password)
        for name, password in passwords.items()
    }
    broadcast = Broadcast("memory://")
    await broadcast.connect()
    log = EventLog(db, broadcast)
    start = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S")
    game = await game_sessions.create(
        log,
        users["demo_dm"],
        game_sessions.NewGameSession("Demo: The Keep on the Borderlands", start, session_description="A demo table"),
    )
    for name in DEMO_PLAYERS:
        await game_sessions.invite_player(log, users["demo_dm"], game["session_id"], name)
        await game_sessions.accept_invitation(log, users[name], game["session_id"])
    await broadcast.disconnect()
    print("Demo accounts (the passwords are shown only now):")
    for name, password in passwords.items():
        print(f"  {name:14} {password}")
    print(f"Demo game session {game['session_id']}: demo_dm is its DM, both players have joined.")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = from_environment()
        if args.command == "migrate":
            return asyncio.run(_migrate(settings, args.check))
        if args.command == "create-user":
            asyncio.run(_with_database(settings, lambda db: _create_user(db, args)))
            return 0
        if args.command == "set-plan":
            asyncio.run(_with_database(settings, lambda db: _set_plan(db, args)))
            return 0
        if not 0 < args.port < 65536:
            raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
        # Upgraded here too (the app does it at start-up) so that a database newer than this code stops
        # start-up with one line, not the traceback of a failed lifespan.
        upgrade = asyncio.run(_upgrade_schema(settings))
        logs.configure(settings.log_format)  # after the upgrade, whose refusal is one plain line; then LOG_FORMAT
        _report_upgrade(*upgrade, say=logging.getLogger("server.schema").info)
        if args.demo:
            asyncio.run(_with_database(settings, _create_demo))
        from server.serve import run

        run(settings, args.host, args.port)
        return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except schema.SchemaTooNew as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Invalid as exc:
        for field, message in exc.errors.items():
            print(f"error: {field}: {message}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
