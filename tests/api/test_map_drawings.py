"""Drawings on a battle map: strokes by anyone at the table, bounded; cleared by the DM."""

from __future__ import annotations

from tests.live import LiveServer, game_table, map_image, upload_map

ADD = "/api/session/maps/drawings/add.php"


async def test_drawings_are_bounded_shared_and_cleared_by_the_dm(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    cellar = (await upload_map(dm, session_id, map_image())).json()["data"]
    map_id = cellar["map_id"]
    stroke = {
        "map_id": map_id,
        "drawing_type": "stroke",
        "color": "#00FF00",
        "brush_size": 5,
        "path_data": [[1, 2], [3.5, 4]],
    }
    drawn = await player.ok(ADD, stroke)
    assert (drawn["user_id"], drawn["path_data"], drawn["brush_size"]) == (player.user_id, [[1, 2], [3.5, 4]], 5)
    assert (await dm.ok(ADD, {**stroke, "drawing_type": "erase"}))["drawing_type"] == "erase"
    refused = [
        await player.post(ADD, {**stroke, "brush_size": 51}),
        await player.post(ADD, {**stroke, "brush_size": 0}),
        await player.post(ADD, {**stroke, "drawing_type": "fill"}),
        await player.post(ADD, {**stroke, "path_data": []}),
        await player.post(ADD, {**stroke, "path_data": [[0, 0]] * 2001}),
        await player.post(ADD, {**stroke, "path_data": [[1e300, 0]]}),
        await player.post(ADD, {**stroke, "path_data": [["a", 0]]}),
        await player.post(ADD, {**stroke, "color": "green"}),
        await player.post("/api/session/maps/drawings/clear.php", {"map_id": map_id}),
    ]
    assert [r.status_code for r in refused] == [400] * 8 + [403]
    listed = (await player.get("/api/session/maps/drawings/get.php", map_id=map_id)).json()["data"]["drawings"]
    assert [d["drawing_type"] for d in listed] == ["stroke", "erase"]
    await dm.ok("/api/session/maps/drawings/clear.php", {"map_id": map_id})
    assert (await player.get("/api/session/maps/drawings/get.php", map_id=map_id)).json()["data"]["drawings"] == []
