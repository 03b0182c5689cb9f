"""The route table: every path the server answers."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from server.api import (
    audio,
    auth,
    characters,
    chat,
    combat,
    dice,
    drawings,
    fog,
    forum,
    game_sessions,
    health,
    items,
    maps,
    monsters,
    realtime,
    snapshot,
    tokens,
)
from server.channels import websocket


def _post(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["POST"])  # type: ignore[arg-type]


def _get(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["GET"])  # type: ignore[arg-type]


def _put(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["PUT", "PATCH"])  # type: ignore[arg-type]


def _delete(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["DELETE"])  # type: ignore[arg-type]


API: list[BaseRoute] = [
    _get("/health", health.health),
    _post("/auth/login.php", auth.login),
    _post("/auth/register.php", auth.register),
    _post("/auth/logout.php", auth.logout),
    _get("/auth/verify.php", auth.verify),
    _post("/session/create.php", game_sessions.create),
    _post("/session/invite-player.php", game_sessions.invite_player),
    _post("/session/accept-invitation.php", game_sessions.accept_invitation),
    _get("/session/list.php", game_sessions.list_sessions),
    _post("/session/remove-player.php", game_sessions.remove_player),
    _post("/session/start.php", game_sessions.start),
    _post("/session/end.php", game_sessions.end),
    _post("/character/create.php", characters.create),
    _post("/character/update-hp.php", characters.update_hp),
    _get("/character/get.php", characters.get),
    _get("/character/list.php", characters.list_characters),
    _post("/character/grant-xp.php", characters.grant_xp),
    _post("/forum/posts/upload-image.php", forum.upload_image),
    _post("/audio/control.php", audio.control),
    _get("/session/get-dm-dashboard.php", combat.get_dm_dashboard),
    _get("/monsters/list.php", monsters.list_monsters),
    _get("/monsters/get.php", monsters.get_monster),
    _post("/monsters/create-instance.php", monsters.create_instance),
    _post("/monsters/update-instance.php", monsters.update_instance),
    _post("/monsters/update-hp.php", monsters.update_hp),
    _get("/monsters/list-instances.php", monsters.list_instances),
    _post("/combat/add-character.php", combat.add_character),
    _post("/combat/add-monster.php", combat.add_monster),
    _post("/combat/roll-initiative.php", combat.roll_initiative),
    _post("/combat/next-turn.php", combat.next_turn),
    _get("/combat/get-initiative.php", combat.get_initiative),
    _post("/combat/remove-character.php", combat.remove_character),
    _post("/combat/remove-monster.php", combat.remove_monster),
    _post("/combat/clear-initiative.php", combat.clear_initiative),
    _get("/items/list.php", items.list_items),
    _post("/dice/roll.php", dice.roll),
    _get("/dice/history.php", dice.history),
    _post("/chat/send.php", chat.send),
    _post("/chat/delete.php", chat.delete),
    _get("/chat/history.php", chat.history),
    _get("/session/snapshot.php", snapshot.snapshot),
    _post("/session/maps/upload.php", maps.upload),
    _get("/session/maps/list.php", maps.list_maps),
    _get("/session/maps/get.php", maps.get_map),
    _put("/session/maps/update.php", maps.update),
    _delete("/session/maps/delete.php", maps.delete),
    _get("/session/maps/image.php", maps.image),
    _post("/session/maps/tokens/add.php", tokens.add),
    _put("/session/maps/tokens/move.php", tokens.move),
    _put("/session/maps/tokens/update.php", tokens.update),
    _delete("/session/maps/tokens/delete.php", tokens.delete),
    _get("/session/maps/tokens/list.php", tokens.list_tokens),
    _post("/session/maps/fog/reveal.php", fog.reveal),
    _post("/session/maps/fog/hide.php", fog.hide),
    _post("/session/maps/fog/reset.php", fog.reset),
    _post("/session/maps/drawings/add.php", drawings.add),
    _get("/session/maps/drawings/get.php", drawings.list_drawings),
    _post("/session/maps/drawings/clear.php", drawings.clear),
    _get("/realtime/poll.php", realtime.poll),
    WebSocketRoute("/realtime/ws", websocket.realtime_socket),
]

# Under one mount, so that /api paths answer 404/405 in the envelope instead of falling through to the
# client's static files.
ROUTES: list[BaseRoute] = [_get("/images/forum/{name}", forum.serve_image), Mount("/api", routes=API)]
