"""Battle maps over real HTTP: upload (type from the bytes, size from the header, 20 MB streamed),
who sees which map, activation, grid changes and deletion."""

from __future__ import annotations

from pathlib import Path

from tests.live import Client, LiveServer, game_table, map_image, png_header_only, upload_map

MB = 1024 * 1024


def stored_maps(settings) -> list[Path]:
    folder = Path(settings.upload_dir) / "maps"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_the_dm_uploads_maps_and_players_see_only_the_active_one(server: LiveServer, settings):
    dm, (player,), session_id = await game_table(server, players=1)
    first = await upload_map(dm, session_id, map_image(640, 480), "Cellar")
    assert first.status_code == 200, first.text
    cellar = first.json()["data"]
    assert (cellar["width"], cellar["height"], cellar["is_active"]) == (640, 480, True)
    assert cellar["content_type"] == "image/png" and cellar["grid_size"] == 50
    second = await upload_map(dm, session_id, map_image(300, 200, "JPEG"), "Tower", filename="tower.png")
    tower = second.json()["data"]
    assert (tower["content_type"], tower["is_active"]) == ("image/jpeg", False)  # the bytes decide, not the name
    webp = await upload_map(dm, session_id, map_image(100, 100, "WEBP"), "Crypt")
    assert webp.json()["data"]["content_type"] == "image/webp"

    dm_list = (await dm.get("/api/session/maps/list.php", session_id=session_id)).json()["data"]["maps"]
    assert [m["map_name"] for m in dm_list] == ["Cellar", "Tower", "Crypt"]
    player_list = (await player.get("/api/session/maps/list.php", session_id=session_id)).json()["data"]["maps"]
    assert [m["map_name"] for m in player_list] == ["Cellar"]
    assert (await player.get("/api/session/maps/get.php", map_id=tower["map_id"])).status_code == 404
    assert (await player.http.get(tower["image_url"])).status_code == 404

    image = await player.http.get(cellar["image_url"])
    assert image.status_code == 200 and image.content == map_image(640, 480)
    assert image.headers["content-type"] == "image/png" and image.headers["cache-control"].startswith("private")
    outsider = await (await game_table(server, players=0))[0].http.get(cellar["image_url"])
    assert outsider.status_code == 403
    anonymous = await Client(server).http.get(cellar["image_url"])
    assert anonymous.status_code == 401

    activate = await dm.send("PUT", "/api/session/maps/update.php", {"map_id": tower["map_id"], "is_active": True})
    assert activate.status_code == 200 and activate.json()["data"]["is_active"] is True
    player_list = (await player.get("/api/session/maps/list.php", session_id=session_id)).json()["data"]["maps"]
    assert [m["map_name"] for m in player_list] == ["Tower"]
    assert len(stored_maps(settings)) == 3


async def test_refused_uploads_leave_nothing_behind(server: LiveServer, settings):
    dm, (player,), session_id = await game_table(server, players=1)
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + b"\x00" * 64
    refusals = [
        (await upload_map(player, session_id, map_image()), 403),
        (await upload_map(dm, session_id, gif), 400),  # GIF is no map type
        (await upload_map(dm, session_id, b"#!/bin/sh\necho pwned\n" * 4), 400),
        (await upload_map(dm, session_id, png_header_only(10_000, 6_000)), 400),  # 60 megapixels
        (await upload_map(dm, session_id, map_image(), map_name=""), 400),
        (await upload_map(dm, session_id, map_image(pad=20 * MB)), 413),
        (await dm.post("/api/session/maps/upload.php", {"session_id": session_id}), 400),  # not multipart
    ]  # fmt: skip
    for number, (response, status) in enumerate(refusals):
        assert response.status_code == status, (number, response.text)
        assert response.json()["status"] == "error"
    assert "pixels" in refusals[3][0].json()["errors"]["image"]
    assert refusals[4][0].json()["errors"] == {"map_name": "Map name is required"}
    assert stored_maps(settings) == []
    assert await server.services.db.fetch_val("SELECT count(*) FROM battle_maps") == 0

    at_the_limit = map_image(pad=20 * MB - len(map_image()))
    assert (await upload_map(dm, session_id, at_the_limit)).status_code == 200
    assert len(stored_maps(settings)) == 1


async def test_grid_name_activation_and_deletion(server: LiveServer, settings):
    dm, (player,), session_id = await game_table(server, players=1)
    cellar = (await upload_map(dm, session_id, map_image(1000, 800))).json()["data"]
    update = "/api/session/maps/update.php"
    changed = await dm.send(
        "PATCH", update, {"map_id": cellar["map_id"], "map_name": "Wine cellar", "grid_size": 40, "grid_offset_x": 5}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["data"]["map_name"], changed.json()["data"]["grid_size"]) == ("Wine cellar", 40)
    refused = [
        await dm.send("PUT", update, {"map_id": cellar["map_id"], "grid_size": 5}),
        await dm.send("PUT", update, {"map_id": cellar["map_id"], "grid_size": 10, "grid_offset_x": 10}),
        await player.send("PUT", update, {"map_id": cellar["map_id"], "map_name": "Mine"}),
        await dm.send("PUT", update, {"map_id": 999_999, "map_name": "Nowhere"}),
    ]
    assert [r.status_code for r in refused] == [400, 400, 403, 404]

    deactivated = await dm.send("PUT", update, {"map_id": cellar["map_id"], "is_active": False})
    assert deactivated.json()["data"]["is_active"] is False
    assert (await player.get("/api/session/maps/list.php", session_id=session_id)).json()["data"]["maps"] == []

    assert (await player.send("DELETE", f"/api/session/maps/delete.php?map_id={cellar['map_id']}")).status_code == 403
    deleted = await dm.send("DELETE", f"/api/session/maps/delete.php?map_id={cellar['map_id']}")
    assert deleted.status_code == 200 and stored_maps(settings) == []
    assert (await dm.get("/api/session/maps/get.php", map_id=cellar["map_id"])).status_code == 404


async def test_map_events_reach_players_only_for_the_active_map(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    dm_socket = await dm.socket(session_id)
    player_socket = await player.socket(session_id)
    cellar = (await upload_map(dm, session_id, map_image(), "Cellar")).json()["data"]
    tower = (await upload_map(dm, session_id, map_image(), "Tower")).json()["data"]
    await dm.send("PUT", "/api/session/maps/update.php", {"map_id": tower["map_id"], "map_name": "High tower"})
    await dm.send("PUT", "/api/session/maps/update.php", {"map_id": tower["map_id"], "is_active": True})
    dm_events = [(e["event_type"], e["event_data"].get("map_id")) for e in await dm_socket.events_of("map_", 5)]
    assert dm_events == [
        ("map_refresh", None),
        ("map_activated", cellar["map_id"]),
        ("map_refresh", None),
        ("map_refresh", None),
        ("map_activated", tower["map_id"]),
    ]
    player_events = await player_socket.events_of("map_", 2)
    assert [(e["event_type"], e["event_data"]["map"]["map_name"]) for e in player_events] == [
        ("map_activated", "Cellar"),
        ("map_activated", "High tower"),
    ]
