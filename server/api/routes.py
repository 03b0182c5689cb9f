"""The route table: every path the server answers."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from server.api import audio, auth, characters, game_sessions, health
from server.channels import longpoll, websocket


def _post(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["POST"])  # type: ignore[arg-type]


def _get(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["GET"])  # type: ignore[arg-type]


API: list[BaseRoute] = [
    _get("/health", health.health),
    _post("/auth/login.php", auth.login),
    _post("/auth/register.php", auth.register),
    _post("/auth/logout.php", auth.logout),
    _get("/auth/verify.php", auth.verify),
    _post("/session/create.php", game_sessions.create),
    _post("/session/invite-player.php", game_sessions.invite_player),
    _post("/session/accept-invitation.php", game_sessions.accept_invitation),
    _post("/character/create.php", characters.create),
    _post("/character/update-hp.php", characters.update_hp),
    _post("/audio/control.php", audio.control),
    _get("/realtime/poll.php", longpoll.poll),
    WebSocketRoute("/realtime/ws", websocket.realtime_socket),
]

# Under one mount, so that /api paths answer 404/405 in the envelope instead of falling through to the
# client's static files.
ROUTES: list[BaseRoute] = [Mount("/api", routes=API)]
