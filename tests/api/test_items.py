"""The public equipment list over real HTTP."""

from __future__ import annotations

from tests.live import Client, LiveServer

ITEM_KEYS = {
    "item_id",
    "name",
    "category",
    "item_type",
    "cost_gp",
    "weight_cn",
    "damage_die",
    "damage_type",
    "armor_class",
    "description",
}


async def test_items_are_public_and_paginated(server: LiveServer):
    anonymous = Client(server)
    response = await anonymous.get("/api/items/list.php", limit=100)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total_count"] >= 100 and data["total_count"] == data["pagination"]["total"]
    assert data["pagination"]["total_pages"] == -(-data["total_count"] // 100)
    assert len(data["items"]) == 100 and all(set(item) == ITEM_KEYS for item in data["items"])
    rest = (await anonymous.get("/api/items/list.php", limit=100, page=2)).json()["data"]["items"]
    assert len(rest) == data["total_count"] - 100
    assert len({item["item_id"] for item in data["items"] + rest}) == data["total_count"]
    default = (await anonymous.get("/api/items/list.php")).json()["data"]
    assert len(default["items"]) == 20 and default["pagination"]["limit"] == 20
    beyond = (await anonymous.get("/api/items/list.php", page=99)).json()["data"]
    assert beyond["items"] == [] and beyond["total_count"] == data["total_count"]


async def test_items_filter_by_category_and_type(server: LiveServer):
    anonymous = Client(server)
    weapons = (await anonymous.get("/api/items/list.php", category="weapons", limit=100)).json()["data"]
    assert weapons["total_count"] == len(weapons["items"]) > 10
    assert all(item["category"] == "weapons" and item["damage_die"] for item in weapons["items"])
    swords = (await anonymous.get("/api/items/list.php", category="WEAPONS", item_type="sword")).json()["data"]
    assert swords["total_count"] == len(swords["items"]) >= 1
    assert all(item["item_type"] == "sword" for item in swords["items"])
    axes = (await anonymous.get("/api/items/list.php", item_type="axe")).json()["data"]
    battle_axe = next(item for item in axes["items"] if item["name"] == "Battle Axe")
    assert battle_axe["cost_gp"] == 7 and battle_axe["weight_cn"] == 50 and battle_axe["damage_die"] == "1d8"
    nothing = (await anonymous.get("/api/items/list.php", category="spaceships")).json()["data"]
    assert nothing["items"] == [] and nothing["total_count"] == 0


async def test_items_reject_bad_queries(server: LiveServer):
    anonymous = Client(server)
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}, {"category": "c" * 51}):
        response = await anonymous.get("/api/items/list.php", **params)
        assert response.status_code == 400, params
        assert list(response.json()["errors"]) == list(params)
    assert (await anonymous.post("/api/items/list.php", {})).status_code == 405
