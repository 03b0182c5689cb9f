"""The route table: every path the server answers, each with what server/api/openapi.py needs to describe
it (its body or query model and the error statuses it can answer). A route added here is in the API
document by construction; tests/api/test_openapi.py fails for a route that is not."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, WebSocketRoute

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
    openapi,
    pagination,
    realtime,
    snapshot,
    tokens,
)
from server.api.endpoint import Endpoint, _delete, _get, _post, _put
from server.api.v1.routes import V1, V1_ENDPOINTS, V1_ROOT_ENDPOINTS
from server.audio import AudioControl
from server.battle_maps import BattleMap, MapDeleted, MapList
from server.bestiary import Monster
from server.channels import websocket
from server.channels.longpoll import Poll
from server.characters import Character, CreatedCharacter, XpGrant
from server.characters import HitPoints as CharacterHitPoints
from server.chat import ChatMessage, MessageDeleted, MessagePage
from server.dice_rolls import Rolled, RollPage
from server.dm_dashboard import Dashboard
from server.fog import Hidden as FogHidden
from server.fog import Reset as FogReset
from server.fog import Revealed as FogRevealed
from server.game_sessions import Accepted, CreatedGameSession, Invited, Removed, StatusChange
from server.initiative import Tracker, TrackerChange
from server.map_drawings import Cleared as DrawingsCleared
from server.map_drawings import Drawing, DrawingList
from server.map_scene import MapScene
from server.map_tokens import Token, TokenList, TokenRemoved
from server.monster_instances import HitPoints as MonsterHitPoints
from server.monster_instances import InstanceUpdated, Spawned
from server.monster_removal import MonsterRemoved
from server.table_snapshot import Snapshot
from server.uploads import StoredImage

_MAP_FORM = {
    "type": "object",
    "required": ["image", "session_id", "map_name"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "PNG, JPEG or WebP"},
        "session_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "map_name": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
_MAP = "Battle maps"


_SESSION = "Game sessions"
_CHARACTER = "Characters"
_MONSTER = "Monsters"
_COMBAT = "Initiative"
_NOT_FOUND = (404,)
_MEMBER = (403, 404)  # not a member / not the DM; unknown game session or object

# Paths under /api.
API_ENDPOINTS: list[Endpoint] = [
    _get(
        "/health",
        health.health,
        "Whether the server and its database answer",
        "Server",
        login=False,
        answer=health.Health,
    ),
    _post(
        "/auth/login.php",
        auth.login,
        "Log in (sets the session cookie)",
        "Auth",
        body=auth.Login,
        login=False,
        errors=(401, 429),
        answer=auth.LoggedIn,
    ),
    _post(
        "/auth/register.php",
        auth.register,
        "Register and log in",
        "Auth",
        body=auth.Registration,
        login=False,
        errors=(409, 429),
        answer=auth.LoggedIn,
    ),
    _post(
        "/auth/logout.php",
        auth.logout,
        "End the login session; closes the user's sockets",
        "Auth",
        answer=auth.LoggedOut,
    ),
    _get(
        "/auth/verify.php",
        auth.verify,
        "The current login, if any, and its CSRF token",
        "Auth",
        login=False,
        answer=auth.Verified,
    ),
    _post(
        "/session/create.php",
        game_sessions.create,
        "Create a game session (you are its DM)",
        _SESSION,
        body=game_sessions.NewSession,
        errors=(409,),
        answer=CreatedGameSession,
    ),
    _post(
        "/session/invite-player.php",
        game_sessions.invite_player,
        "Invite a user (DM)",
        _SESSION,
        body=game_sessions.Invitation,
        errors=(*_MEMBER, 409),
        answer=Invited,
    ),
    _post(
        "/session/accept-invitation.php",
        game_sessions.accept_invitation,
        "Accept an invitation",
        _SESSION,
        body=game_sessions.SessionRef,
        errors=(*_MEMBER, 409),
        answer=Accepted,
    ),
    _get(
        "/session/list.php",
        game_sessions.list_sessions,
        "Your game sessions",
        _SESSION,
        query=pagination.PageQuery,
        answer=game_sessions.GameSessionPage,
    ),
    _post(
        "/session/remove-player.php",
        game_sessions.remove_player,
        "Remove a player (DM)",
        _SESSION,
        body=game_sessions.PlayerRef,
        errors=_MEMBER,
        answer=Removed,
    ),
    _post(
        "/session/start.php",
        game_sessions.start,
        "Start the game session (DM)",
        _SESSION,
        body=game_sessions.SessionRef,
        errors=(*_MEMBER, 409),
        answer=StatusChange,
    ),
    _post(
        "/session/end.php",
        game_sessions.end,
        "End the game session (DM)",
        _SESSION,
        body=game_sessions.SessionRef,
        errors=(*_MEMBER, 409),
        answer=StatusChange,
    ),
    _post(
        "/character/create.php",
        characters.create,
        "Create a character",
        _CHARACTER,
        body=characters.NewCharacter,
        errors=(*_MEMBER, 409),
        answer=CreatedCharacter,
    ),
    _post(
        "/character/update-hp.php",
        characters.update_hp,
        "Damage or heal a character",
        _CHARACTER,
        body=characters.CharacterHitPoints,
        errors=(*_MEMBER, 409),
        answer=CharacterHitPoints,
    ),
    _get(
        "/character/get.php",
        characters.get,
        "One character",
        _CHARACTER,
        query=characters.CharacterRef,
        errors=_MEMBER,
        answer=Character,
    ),
    _get(
        "/character/list.php",
        characters.list_characters,
        "Characters you may see",
        _CHARACTER,
        query=characters.CharacterListQuery,
        errors=_MEMBER,
        answer=characters.CharacterPage,
    ),
    _post(
        "/character/grant-xp.php",
        characters.grant_xp,
        "Grant experience points (DM)",
        _CHARACTER,
        body=characters.XpGrant,
        errors=(*_MEMBER, 409),
        answer=XpGrant,
    ),
    _post(
        "/forum/posts/upload-image.php",
        forum.upload_image,
        "Upload a forum image (PNG, JPEG, GIF, WebP)",
        "Forum",
        upload=True,
        errors=_MEMBER,
        answer=StoredImage,
    ),
    _post(
        "/audio/control.php",
        audio.control,
        "Control the game session's music (DM)",
        "Audio",
        body=audio.AudioControl,
        errors=_MEMBER,
        answer=AudioControl,
    ),
    _get(
        "/session/get-dm-dashboard.php",
        combat.get_dm_dashboard,
        "The DM's screen",
        _SESSION,
        query=combat.SessionRef,
        errors=_MEMBER,
        answer=Dashboard,
    ),
    _get(
        "/monsters/list.php",
        monsters.list_monsters,
        "Search the bestiary",
        _MONSTER,
        query=monsters.MonsterSearch,
        answer=monsters.MonsterPage,
    ),
    _get(
        "/monsters/get.php",
        monsters.get_monster,
        "One bestiary entry",
        _MONSTER,
        query=monsters.MonsterRef,
        errors=_NOT_FOUND,
        answer=Monster,
    ),
    _post(
        "/monsters/create-instance.php",
        monsters.create_instance,
        "Put monsters in a game session (DM)",
        _MONSTER,
        body=monsters.NewInstances,
        errors=(*_MEMBER, 409),
        answer=Spawned,
    ),
    _post(
        "/monsters/update-instance.php",
        monsters.update_instance,
        "Change a monster instance (DM)",
        _MONSTER,
        body=monsters.InstanceChange,
        errors=_MEMBER,
        answer=InstanceUpdated,
    ),
    _post(
        "/monsters/update-hp.php",
        monsters.update_hp,
        "Damage or heal a monster instance (DM)",
        _MONSTER,
        body=monsters.InstanceHitPoints,
        errors=(*_MEMBER, 409),
        answer=MonsterHitPoints,
    ),
    _post(
        "/monsters/delete-instance.php",
        monsters.delete_instance,
        "Remove a monster instance from the game session, with its tokens and its place in initiative (DM)",
        _MONSTER,
        body=monsters.InstanceRef,
        errors=_MEMBER,
        answer=MonsterRemoved,
    ),
    _get(
        "/monsters/list-instances.php",
        monsters.list_instances,
        "A game session's monster instances",
        _MONSTER,
        query=monsters.SessionPage,
        errors=_MEMBER,
        answer=monsters.InstancePage,
    ),
    _post(
        "/combat/add-character.php",
        combat.add_character,
        "Add a character to initiative (DM)",
        _COMBAT,
        body=combat.CharacterEntry,
        errors=(*_MEMBER, 409),
        answer=TrackerChange,
    ),
    _post(
        "/combat/add-monster.php",
        combat.add_monster,
        "Add a monster instance to initiative (DM)",
        _COMBAT,
        body=combat.MonsterEntry,
        errors=(*_MEMBER, 409),
        answer=TrackerChange,
    ),
    _post(
        "/combat/roll-initiative.php",
        combat.roll_initiative,
        "Roll initiative (DM)",
        _COMBAT,
        body=combat.Roll,
        errors=(*_MEMBER, 409),
        answer=TrackerChange,
    ),
    _post(
        "/combat/next-turn.php",
        combat.next_turn,
        "Advance the turn (DM)",
        _COMBAT,
        body=combat.SessionRef,
        errors=(*_MEMBER, 409),
        answer=TrackerChange,
    ),
    _get(
        "/combat/get-initiative.php",
        combat.get_initiative,
        "The initiative tracker",
        _COMBAT,
        query=combat.SessionRef,
        errors=_MEMBER,
        answer=Tracker,
    ),
    _post(
        "/combat/remove-character.php",
        combat.remove_character,
        "Remove a character from initiative (DM)",
        _COMBAT,
        body=combat.EntryRef,
        errors=_MEMBER,
        answer=TrackerChange,
    ),
    _post(
        "/combat/remove-monster.php",
        combat.remove_monster,
        "Remove a monster from initiative (DM)",
        _COMBAT,
        body=combat.EntryRef,
        errors=_MEMBER,
        answer=TrackerChange,
    ),
    _post(
        "/combat/clear-initiative.php",
        combat.clear_initiative,
        "Clear the initiative tracker (DM)",
        _COMBAT,
        body=combat.SessionRef,
        errors=_MEMBER,
        answer=TrackerChange,
    ),
    _get(
        "/items/list.php",
        items.list_items,
        "The equipment list",
        "Items",
        query=items.ItemQuery,
        login=False,
        answer=items.ItemPage,
    ),
    _post(
        "/dice/roll.php",
        dice.roll,
        "Roll dice (public, blind or whispered)",
        "Dice and chat",
        body=dice.RollRequest,
        errors=(*_MEMBER, 409, 429),
        answer=Rolled,
    ),
    _get(
        "/dice/history.php",
        dice.history,
        "The rolls you may see",
        "Dice and chat",
        query=pagination.HistoryQuery,
        errors=_MEMBER,
        answer=RollPage,
    ),
    _post(
        "/chat/send.php",
        chat.send,
        "Send a chat message or a whisper",
        "Dice and chat",
        body=chat.Message,
        errors=(*_MEMBER, 409, 429),
        answer=ChatMessage,
    ),
    _post(
        "/chat/delete.php",
        chat.delete,
        "Delete a chat message (its author or the DM)",
        "Dice and chat",
        body=chat.MessageRef,
        errors=_MEMBER,
        answer=MessageDeleted,
    ),
    _get(
        "/chat/history.php",
        chat.history,
        "The chat you may see",
        "Dice and chat",
        query=pagination.HistoryQuery,
        errors=_MEMBER,
        answer=MessagePage,
    ),
    _get(
        "/session/snapshot.php",
        snapshot.snapshot,
        "The table in one answer (a client's first load)",
        _SESSION,
        query=maps.SessionRef,
        errors=_MEMBER,
        answer=Snapshot,
    ),
    _post(
        "/session/maps/upload.php",
        maps.upload,
        "Upload a battle map (DM)",
        _MAP,
        upload=True,
        form=_MAP_FORM,
        errors=_MEMBER,
        answer=BattleMap,
    ),
    _get(
        "/session/maps/list.php",
        maps.list_maps,
        "A game session's maps",
        _MAP,
        query=maps.SessionRef,
        errors=_MEMBER,
        answer=MapList,
    ),
    _get(
        "/session/maps/get.php",
        maps.get_map,
        "One map with its tokens, fog and drawings",
        _MAP,
        query=maps.MapRef,
        errors=_MEMBER,
        answer=MapScene,
    ),
    _put(
        "/session/maps/update.php",
        maps.update,
        "Change a map (DM)",
        _MAP,
        body=maps.MapChange,
        errors=(*_MEMBER, 409),
        answer=BattleMap,
    ),
    _delete(
        "/session/maps/delete.php",
        maps.delete,
        "Delete a map (DM)",
        _MAP,
        query=maps.MapRef,
        errors=_MEMBER,
        answer=MapDeleted,
    ),
    _get(
        "/session/maps/image.php",
        maps.image,
        "A map's image",
        _MAP,
        query=maps.MapRef,
        errors=_MEMBER,
        media_type="image/*",
    ),
    _post(
        "/session/maps/tokens/add.php",
        tokens.add,
        "Put a token on a map",
        _MAP,
        body=tokens.NewToken,
        errors=(*_MEMBER, 409),
        answer=Token,
    ),
    _put(
        "/session/maps/tokens/move.php",
        tokens.move,
        "Move a token",
        _MAP,
        body=tokens.TokenMove,
        errors=(*_MEMBER, 409),
        answer=Token,
    ),
    _put(
        "/session/maps/tokens/update.php",
        tokens.update,
        "Change a token",
        _MAP,
        body=tokens.TokenChange,
        errors=(*_MEMBER, 409),
        answer=Token,
    ),
    _delete(
        "/session/maps/tokens/delete.php",
        tokens.delete,
        "Remove a token",
        _MAP,
        query=tokens.TokenRef,
        errors=_MEMBER,
        answer=TokenRemoved,
    ),
    _get(
        "/session/maps/tokens/list.php",
        tokens.list_tokens,
        "A map's tokens you may see",
        _MAP,
        query=maps.MapRef,
        errors=_MEMBER,
        answer=TokenList,
    ),
    _post(
        "/session/maps/fog/reveal.php",
        fog.reveal,
        "Reveal fog cells or a polygon (DM)",
        _MAP,
        body=fog.FogArea,
        errors=(*_MEMBER, 409),
        answer=FogRevealed,
    ),
    _post(
        "/session/maps/fog/hide.php",
        fog.hide,
        "Hide fog cells or a polygon (DM)",
        _MAP,
        body=fog.FogArea,
        errors=(*_MEMBER, 409),
        answer=FogHidden,
    ),
    _post(
        "/session/maps/fog/reset.php",
        fog.reset,
        "Cover the whole map in fog (DM)",
        _MAP,
        body=maps.MapRef,
        errors=(*_MEMBER, 409),
        answer=FogReset,
    ),
    _post(
        "/session/maps/drawings/add.php",
        drawings.add,
        "Draw on a map",
        _MAP,
        body=drawings.NewDrawing,
        errors=(*_MEMBER, 409),
        answer=Drawing,
    ),
    _get(
        "/session/maps/drawings/get.php",
        drawings.list_drawings,
        "A map's drawings",
        _MAP,
        query=maps.MapRef,
        errors=_MEMBER,
        answer=DrawingList,
    ),
    _post(
        "/session/maps/drawings/clear.php",
        drawings.clear,
        "Clear a map's drawings (DM)",
        _MAP,
        body=maps.MapRef,
        errors=(*_MEMBER, 409),
        answer=DrawingsCleared,
    ),
    _get(
        "/realtime/poll.php",
        realtime.poll,
        "Long-poll for a game session's events (up to 25 s)",
        "Real time",
        query=realtime.PollQuery,
        errors=(*_MEMBER, 429),  # 429: MAX_USER_CONNECTIONS
        answer=Poll,
    ),
]


async def _openapi_document(request: Request) -> Response:
    return openapi.answer(ENDPOINTS)


API_ENDPOINTS += [
    _get("/openapi.json", _openapi_document, "This document (OpenAPI 3.1)", "Server", login=False, enveloped=False),
    _get("/docs", openapi.docs_page, "This document as a readable page", "Server", login=False, media_type="text/html"),
]

# Outside /api.
ROOT_ENDPOINTS: list[Endpoint] = [
    _get(
        "/images/forum/{name}",
        forum.serve_image,
        "An uploaded forum image",
        "Forum",
        login=False,
        errors=_NOT_FOUND,
        media_type="image/*",
    ),
    _get(
        "/metrics",
        health.metrics,
        "Metrics in the Prometheus text format",
        "Server",
        login=False,
        media_type="text/plain",
    ),
]

# Every endpoint with its full path.
ROOT_ENDPOINTS += V1_ROOT_ENDPOINTS
ENDPOINTS: list[tuple[str, Endpoint]] = (
    [("/api" + e.path, e) for e in API_ENDPOINTS]
    + [(e.path, e) for e in ROOT_ENDPOINTS]
    + [("/v1" + e.path, e) for e in V1_ENDPOINTS]
)
WEBSOCKET_PATH = "/api/realtime/ws"
# Answered before Starlette's middleware and routing (server/api/hot_routes.py): the writes of a fight.
HOT_HANDLERS = (characters.update_hp, monsters.update_hp)

# The routes under /api.
API: list[BaseRoute] = [
    *(e.route() for e in API_ENDPOINTS),
    WebSocketRoute(WEBSOCKET_PATH.removeprefix("/api"), websocket.realtime_socket),
    Mount("/docs/static", openapi.swagger_ui_files()),
]

# Under one mount, so that /api paths answer 404/405 in the envelope instead of falling through to the
# client's static files.
ROUTES: list[BaseRoute] = [*(e.route() for e in ROOT_ENDPOINTS), Mount("/api", routes=API), V1]
