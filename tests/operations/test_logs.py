"""LOG_FORMAT=json: one JSON object per line; with ACCESS_LOG each request with its route, status,
duration and user id (without it, none); never a password, session token or CSRF token."""

from __future__ import annotations

import json
import secrets

from tests.live import Client, ServerProcess


async def test_json_logs_carry_requests_and_never_secrets(tmp_path):
    log_path = tmp_path / "server.log"
    server = await ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db",
            "UPLOAD_DIR": str(tmp_path / "up"),
            "LOG_FORMAT": "json",
            "ACCESS_LOG": "true",
        },
        log_path,
    ).start()
    password = f"canary-password-{secrets.token_hex(8)}"
    try:
        client = Client(server)  # type: ignore[arg-type]
        server.clients.append(client)
        await client.register(f"logs{secrets.token_hex(3)}", password=password)
        token = client.http.cookies["sessionToken"]
        assert (await client.login(client.user["username"], password)).status_code == 200
        await client.login(client.user["username"], password + "-wrong")  # a 401, with a password in its body
        await client.get("/api/session/list.php")
        await client.post("/api/session/create.php", {"session_title": password})  # a 400 that echoes nothing
        csrf = client.csrf
    finally:
        await server.stop()
    text = log_path.read_text()
    for canary in (password, token, csrf):
        assert canary and canary not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one object
    requests = [line for line in lines if line["logger"] == "server.request"]
    listed = next(line for line in requests if line["route"] == "/api/session/list.php")
    assert listed["status"] == 200 and listed["method"] == "GET" and listed["user_id"] == client.user_id
    assert isinstance(listed["duration_ms"], float)
    assert {"time", "level", "message"} <= set(listed)
    assert any(line["route"] == "/api/auth/login.php" and line["status"] == 401 for line in requests)
    assert any(line["route"] == "/api/session/create.php" and line["status"] == 400 for line in requests)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines are JSON too


async def test_without_access_log_requests_write_no_lines(tmp_path):
    log_path = tmp_path / "server.log"
    server = await ServerProcess(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db", "UPLOAD_DIR": str(tmp_path / "up"), "LOG_FORMAT": "json"},
        log_path,
    ).start()
    try:
        client = Client(server)  # type: ignore[arg-type]
        server.clients.append(client)
        await client.register(f"quiet{secrets.token_hex(3)}")
        assert (await client.get("/api/session/list.php")).status_code == 200
        metrics = await client.get("/metrics")
    finally:
        await server.stop()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert lines and not [line for line in lines if line["logger"] == "server.request"]
    assert 'route="/api/session/list.php"' in metrics.text  # still timed, in the latency histogram
