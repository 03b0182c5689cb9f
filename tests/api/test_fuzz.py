"""Property-based fuzz of every operation in the API document against a live server (schemathesis):
valid and invalid bodies, queries and methods, sent logged in with the cookie and the CSRF token so the
authenticated routes run for real. No answer may be a 5xx, and every answer must match the document
(status, content type, envelope schema)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.api.openapi import document
from server.api.routes import ENDPOINTS
from tests.live import FIGHTER, PASSWORD, ServerProcess

schema = schemathesis.openapi.from_dict(document(ENDPOINTS))
EXAMPLES = 40  # per operation: about 40 operations, a couple of minutes in all on a small machine


class FuzzTarget:
    """A live server with a logged-in DM who owns a game session, a character and monsters (id 1 each),
    so that fuzzed ids reach real rows."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.headers: dict[str, str] = {}
        self.token = self.csrf = ""

    def log_in(self) -> None:
        response = self.http.post("/api/auth/login.php", json={"username": "fuzzer", "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.token = response.cookies["sessionToken"]
        self.csrf = response.json()["data"]["csrf_token"]
        self.headers = {"Cookie": f"sessionToken={self.token}", "X-CSRF-Token": self.csrf}

    def authenticate(self, case: Any) -> None:
        """Put the real cookie and CSRF token where the case has them; a case that leaves one out (to
        check that the route refuses it) goes without."""
        if case.cookies is not None and "sessionToken" in case.cookies:
            case.cookies["sessionToken"] = self.token
        if case.headers is not None and "X-CSRF-Token" in case.headers:
            case.headers["X-CSRF-Token"] = self.csrf
        if case.headers is not None and "Authorization" in case.headers:
            case.headers["Authorization"] = f"Bearer {self.token}"  # /v1 takes the session token as a bearer

    def seed(self) -> None:
        registered = self.http.post(
            "/api/auth/register.php", json={"username": "fuzzer", "email": "fuzzer@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 200, registered.text
        self.log_in()
        session = self.post(
            "/api/session/create.php", {"session_title": "Fuzz", "session_datetime": "2099-01-01 19:00:00"}
        )
        sid = session["session_id"]
        self.post("/api/character/create.php", {**FIGHTER, "session_id": sid})
        self.post("/api/monsters/create-instance.php", {"session_id": sid, "monster_id": 1, "count": 2})

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    env = {
        "DATABASE_URL": f"sqlite:///{directory}/fuzz.db",
        "UPLOAD_DIR": str(directory / "uploads"),
        # The fuzz logs in again after each logout it sends; 429 itself is tested in test_auth.py.
        "RATE_LIMIT_ATTEMPTS": "1000000",
    }
    server = asyncio.run(ServerProcess(env, directory / "server.log").start())
    fuzz = FuzzTarget(server)
    fuzz.seed()
    # The platform API's request quota (Free: 50 a minute) would answer most cases 429; the quota is
    # tested in tests/v1/test_quota.py.
    subprocess.run(
        [sys.executable, "-m", "server", "set-plan", "fuzzer", "enterprise"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield fuzz
    fuzz.http.close()
    asyncio.run(server.stop())
    log = (directory / "server.log").read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:6000]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI does not flake; raise EXAMPLES to explore more
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_off_the_document(case: Any, target: FuzzTarget) -> None:
    if case.path == "/api/realtime/poll.php" and isinstance(case.query, dict) and "timeout" in case.query:
        # A poll with nothing new parks for its timeout (up to 25 s) by design; waiting adds nothing here.
        case.query["timeout"] = 0
    target.authenticate(case)
    case.call_and_validate(
        base_url=target.server.url,
        timeout=30,
        # A schema-valid request may still be refused by a rule the schema cannot state (a username
        # already taken, "damage or healing", text that is only white space once trimmed): a 400 in the
        # envelope is right there, and the envelope itself is still checked.
        excluded_checks=[positive_data_acceptance],
    )
    if case.path in ("/api/auth/logout.php", "/v1/auth/logout", "/v1/auth/refresh"):
        target.log_in()
