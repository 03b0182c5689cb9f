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


HIDE = "/api/session/maps/fog/hide.php"
TRIANGLE = [[0, 0], [210, 0], [0, 210]]  # cell centres with x + y < 210
U_SHAPE = [[0, 0], [150, 0], [150, 150], [100, 150], [100, 50], [50, 50], [50, 150], [0, 150]]


async def test_a_polygon_reveals_and_hides_the_cells_whose_centre_it_holds(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    cellar = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]  # 50 px squares
    map_id = cellar["map_id"]
    add = "/api/session/maps/tokens/add.php"
    inside = await dm.ok(add, {"map_id": map_id, "label": "Inside", "x_position": 120, "y_position": 30})
    await dm.ok(add, {"map_id": map_id, "label": "Outside", "x_position": 190, "y_position": 90})
    socket = await player.socket(session_id, last_event_id=await server.services.event_log.head(session_id))
    await socket.frame()  # hello

    revealed = await dm.ok(REVEAL, {"map_id": map_id, "polygon": TRIANGLE})
    expected = [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [3, 0]]
    assert revealed["revealed"] == expected and revealed["revealed_count"] == 10
    fog_event, added = await socket.events_of("map_", 2)
    assert fog_event["event_data"] == {"map_id": map_id, "cells": expected}
    assert added["event_type"] == "map_token_added" and added["event_data"]["token"]["token_id"] == inside["token_id"]

    hidden = await dm.ok(HIDE, {"map_id": map_id, "polygon": U_SHAPE})
    # The U's hollow (column 1, rows 1 and 2) stays revealed; of its arms only what was revealed is covered.
    assert hidden["hidden"] == [[0, 0], [0, 1], [0, 2], [1, 0], [2, 0], [2, 1]]
    scene = (await player.get("/api/session/maps/get.php", map_id=map_id)).json()["data"]
    assert scene["revealed_cells"] == [[0, 3], [1, 1], [1, 2], [3, 0]]
    assert scene["tokens"] == []  # the token at (120, 30) is in cell (2, 0): covered again
    assert "polygon" not in str(socket.frames)  # players get cells, never the DM's outline


async def test_polygons_are_bounded_and_the_dms_alone(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    big = (await upload_map(dm, session_id, map_image(4000, 3000))).json()["data"]
    map_id = big["map_id"]
    square = [[0, 0], [400, 0], [400, 400], [0, 400]]
    refused = {
        "both": await dm.post(REVEAL, {"map_id": map_id, "cells": [[0, 0]], "polygon": square}),
        "neither": await dm.post(REVEAL, {"map_id": map_id}),
        "two points": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[0, 0], [400, 400]]}),
        "201 points": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[n, n % 7] for n in range(201)]}),
        "far away": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[0, 0], [200_000, 0], [0, 10]]}),
        "no centre": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[0, 0], [20, 0], [0, 20]]}),
        "off the map": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[-900, -900], [-500, -900], [-500, -500]]}),
        "too many cells": await dm.post(
            REVEAL, {"map_id": map_id, "polygon": [[-99, -99], [4099, -99], [4099, 3099], [-99, 3099]]}
        ),
        "not a pair": await dm.post(REVEAL, {"map_id": map_id, "polygon": [[0, 0, 1], [20, 0], [0, 20]]}),
    }
    for case, answer in refused.items():
        assert answer.status_code == 400, case
        assert set(answer.json()["errors"]) <= {"cells", "polygon"}, (case, answer.json())
    assert "5000" in refused["too many cells"].json()["errors"]["polygon"]
    assert (await player.post(REVEAL, {"map_id": map_id, "polygon": square})).status_code == 403
    assert (await dm.post(REVEAL, {"map_id": 999_999, "polygon": square})).status_code == 404
    scene = (await dm.get("/api/session/maps/get.php", map_id=map_id)).json()["data"]
    assert scene["revealed_cells"] == []  # nothing refused was written
    assert (await dm.ok(REVEAL, {"map_id": map_id, "polygon": square}))["revealed_count"] == 64
