"""The command line, run as a user runs it: a real process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", **env}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_create_user_then_refuse_the_same_name(tmp_path):
    made = run(tmp_path, "create-user", "bilbo", "--email", "bilbo@example.com", "--password", "there and back")
    assert made.returncode == 0, made.stderr
    assert "created user bilbo" in made.stdout
    again = run(tmp_path, "create-user", "BILBO", "--email", "b2@example.com", "--password", "there and back")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: username: Username is already taken"


def test_bad_arguments_get_a_message_not_a_traceback(tmp_path):
    short = run(tmp_path, "create-user", "x", "--email", "nope", "--password", "short")
    assert short.returncode == 1
    assert "Traceback" not in short.stderr
    assert "error: username:" in short.stderr and "error: email:" in short.stderr and "error: password:" in short.stderr
    missing = run(tmp_path, "create-user", "frodo")
    assert missing.returncode == 2 and "--email" in missing.stderr and "Traceback" not in missing.stderr


def test_a_bad_environment_value_stops_start_up_with_one_line(tmp_path):
    result = run(tmp_path, "serve", RATE_LIMIT_ATTEMPTS="lots")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "RATE_LIMIT_ATTEMPTS" in result.stderr


def test_moderator_and_inactive_flags(tmp_path):
    assert (
        run(
            tmp_path, "create-user", "mod", "--email", "m@example.com", "--password", "12345678", "--moderator"
        ).returncode
        == 0
    )
    assert (
        run(
            tmp_path, "create-user", "off", "--email", "o@example.com", "--password", "12345678", "--inactive"
        ).returncode
        == 0
    )
    import sqlite3

    rows = dict(
        (name, (mod, active))
        for name, mod, active in sqlite3.connect(tmp_path / "cli.db").execute(
            "SELECT username, is_moderator, is_active FROM users"
        )
    )
    assert rows == {"mod": (1, 1), "off": (0, 0)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_demo_prints_passwords_that_log_in(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--demo", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Application startup complete" in line:
                break
        passwords = dict(re.findall(r"^\s+(demo_\w+)\s+(\S+)$", "".join(lines), re.M))
        assert set(passwords) == {"demo_dm", "demo_player1", "demo_player2"}
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/login.php",
            json={"username": "demo_dm", "password": passwords["demo_dm"]},
        )
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_migrate_builds_reports_and_checks_the_schema(tmp_path):
    check = run(tmp_path, "migrate", "--check")
    assert check.returncode == 1 and "revision none (empty database)" in check.stdout
    assert "python -m server migrate" in check.stdout
    first = run(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"database schema upgraded from nothing to revision \d{4}\n", first.stdout)
    again = run(tmp_path, "migrate")
    assert again.returncode == 0 and again.stdout.startswith("database schema is up to date (revision ")
    check = run(tmp_path, "migrate", "--check")
    assert check.returncode == 0 and check.stdout.startswith("database schema revision ")


def test_a_database_newer_than_the_code_stops_serve_and_migrate_with_one_line(tmp_path):
    import sqlite3

    assert run(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (["serve", "--port", str(_free_port())], ["migrate"], ["migrate", "--check"]):
        refused = run(tmp_path, *command)
        assert refused.returncode == 1, command
        assert refused.stderr.startswith("error: the database is at schema revision 9999, which this server does not")
        assert refused.stderr.strip().count("\n") == 0 and refused.stdout == ""


def test_an_unreachable_database_stops_migrate_with_one_line(tmp_path):
    for url in (f"postgresql://nobody@127.0.0.1:{_free_port()}/vtt", f"sqlite:///{tmp_path}/no/such/folder/vtt.db"):
        result = run(tmp_path, "migrate", DATABASE_URL=url)
        assert result.returncode == 2
        assert result.stderr.startswith("error: DATABASE_URL: cannot open the database (")
        assert result.stderr.strip().count("\n") == 0
