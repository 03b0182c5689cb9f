"""The fog of war's API: bounds, who may change it, and covering the whole map again."""

from __future__ import annotations

from tests.live import LiveServer, game_table, map_image, upload_map

REVEAL = "/api/session/maps/fog/reveal.php"


async def test_fog_changes_are_bounded_and_the_dms_alone(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    big = (await upload_map(dm, session_id, map_image(4000, 3000))).json()["data"]  # 82 x 62 cells of 50 px
    cells = [[col, row] for col in range(-1, 81) for row in range(-1, 60)][:5000]
    revealed = await dm.ok(REVEAL, {"map_id": big["map_id"], "cells": cells})
    assert revealed["revealed_count"] == 5000
    scene = (await player.get("/api/session/maps/get.php", map_id=big["map_id"])).json()["data"]
    assert len(scene["revealed_cells"]) == 5000 and scene["grid_columns"] == [-1, 80]
    refused = [
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": [[0, 0]] * 5001}),
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": [[81, 0]]}),
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": [[0, -2]]}),
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": [[0, 2**40]]}),
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": []}),
        await dm.post(REVEAL, {"map_id": big["map_id"], "cells": [[0]]}),
        await player.post(REVEAL, {"map_id": big["map_id"], "cells": [[0, 0]]}),
        await player.post("/api/session/maps/fog/reset.php", {"map_id": big["map_id"]}),
    ]
    assert [r.status_code for r in refused] == [400] * 6 + [403, 403]
    assert (await dm.ok("/api/session/maps/fog/reset.php", {"map_id": big["map_id"]}))["revealed_count"] == 0


async def test_resetting_the_fog_removes_every_token_from_the_players_view(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    cellar = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]
    token = await dm.ok(
        "/api/session/maps/tokens/add.php", {"map_id": cellar["map_id"], "x_position": 10, "y_position": 10}
    )
    await dm.ok(REVEAL, {"map_id": cellar["map_id"], "cells": [[0, 0]]})
    socket = await player.socket(session_id, last_event_id=await server.services.event_log.head(session_id))
    await socket.frame()  # hello
    await dm.ok("/api/session/maps/fog/reset.php", {"map_id": cellar["map_id"]})
    reset, removed = await socket.events_of("map_", 2)
    assert (reset["event_type"], reset["event_data"]) == ("map_fog_reset", {"map_id": cellar["map_id"]})
    assert (removed["event_type"], removed["event_data"]["token_id"]) == ("map_token_removed", token["token_id"])
