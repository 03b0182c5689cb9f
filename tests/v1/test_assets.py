"""/v1/assets over real HTTP and a real upload folder: sniffed types, per-type size limits streamed,
quotas of the plan, safe serving by content hash."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from server import assets
from server.plans import DEFAULT_PLANS
from tests.live import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
OGG = b"OggS" + b"\x00" * 200
MP3 = b"ID3\x04\x00" + b"\x00" * 200


def multipart(content: bytes, *, asset_type: str | None = "map", name: str | None = "Goblin Ambush", filename="a.png"):
    files = {"file": (filename, content, "application/octet-stream")}
    data = {key: value for key, value in (("type", asset_type), ("name", name)) if value is not None}
    return {"files": files, "data": data}


async def test_upload_get_list_serve_delete(server: LiveServer, accounts):
    account = await accounts()
    response = await account.api.post("/v1/assets", **multipart(PNG))
    assert response.status_code == 201, response.text
    asset = response.json()
    digest = hashlib.sha256(PNG).hexdigest()
    assert response.headers["location"] == f"/v1/assets/{asset['id']}"
    assert asset["type"] == "map" and asset["name"] == "Goblin Ambush" and asset["size_bytes"] == len(PNG)
    assert asset["content_type"] == "image/png" and asset["content_hash"] == f"sha256:{digest}"
    assert asset["url"] == f"/assets/{digest}.png"
    served = await account.api.get(asset["url"])
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await account.api.get(f"/v1/assets/{asset['id']}")).json() == asset
    assert (await account.api.get("/v1/assets")).json()["data"] == [asset]
    assert (await account.api.delete(f"/v1/assets/{asset['id']}")).status_code == 204
    assert (await account.api.get(f"/v1/assets/{asset['id']}")).status_code == 404
    assert (await account.api.get(asset["url"])).status_code == 404
    assert not list((server.settings.upload_dir / "assets").iterdir())


async def test_list_filters_by_type_and_name_and_paginates(accounts):
    account = await accounts()
    for number, (asset_type, content) in enumerate([("map", PNG), ("audio", OGG), ("token", PNG + b"1")]):
        response = await account.api.post(
            "/v1/assets", **multipart(content, asset_type=asset_type, name=f"Item_{number}%")
        )
        assert response.status_code == 201, response.text
    maps = (await account.api.get("/v1/assets", params={"type": "map"})).json()
    assert [a["type"] for a in maps["data"]] == ["map"]
    found = (await account.api.get("/v1/assets", params={"search": "item_1%"})).json()
    assert [a["name"] for a in found["data"]] == ["Item_1%"]
    page = (await account.api.get("/v1/assets", params={"limit": 2, "page": 2})).json()
    assert len(page["data"]) == 1 and page["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2}
    bad = await account.api.get("/v1/assets", params={"type": "spell", "limit": 0})
    assert bad.status_code == 400 and {d["field"] for d in bad.json()["details"]} == {"type", "limit"}


@pytest.mark.parametrize(
    ("asset_type", "content", "expected"),
    [("audio", OGG, "audio/ogg"), ("audio", MP3, "audio/mpeg"), ("portrait", PNG, "image/png")],
)
async def test_the_type_comes_from_the_bytes_not_the_name(accounts, asset_type, content, expected):
    account = await accounts()
    response = await account.api.post("/v1/assets", **multipart(content, asset_type=asset_type, filename="x.exe"))
    assert response.status_code == 201 and response.json()["content_type"] == expected


@pytest.mark.parametrize(
    ("asset_type", "content"), [("audio", PNG), ("map", OGG), ("handout", b"<html><script>alert(1)</script>")]
)
async def test_bytes_that_do_not_fit_the_type_are_refused_and_nothing_is_left(server, accounts, asset_type, content):
    account = await accounts()
    response = await account.api.post("/v1/assets", **multipart(content, asset_type=asset_type))
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "file", "code": "unsupported_type", "message": response.json()["details"][0]["message"]}
    ]
    folder = server.settings.upload_dir / "assets"
    assert not folder.exists() or not list(folder.iterdir())


async def test_form_errors(accounts):
    account = await accounts()
    missing_type = await account.api.post("/v1/assets", **multipart(PNG, asset_type=None))
    assert missing_type.status_code == 400 and missing_type.json()["details"][0]["code"] == "required"
    unknown = await account.api.post("/v1/assets", **multipart(PNG, asset_type="spellbook"))
    assert unknown.status_code == 400 and unknown.json()["details"][0]["field"] == "type"
    long_name = await account.api.post("/v1/assets", **multipart(PNG, name="n" * 101))
    assert long_name.status_code == 400 and long_name.json()["details"][0]["field"] == "name"
    no_file = await account.api.post("/v1/assets", data={"type": "map"}, files={"other": ("a", b"x")})
    assert no_file.status_code == 400 and no_file.json()["details"][0]["field"] == "file"
    not_multipart = await account.api.post("/v1/assets", json={"type": "map"})
    assert not_multipart.status_code == 400 and not_multipart.json()["error"] == "bad_request"
    unnamed = await account.api.post("/v1/assets", **multipart(PNG, name=None, filename="dungeon level 1.png"))
    assert unnamed.json()["name"] == "dungeon level 1"


async def test_each_type_has_its_size_limit_streamed_or_declared(accounts):
    account = await accounts()
    limit = assets.MAX_BYTES["token"]
    edge = await account.api.post("/v1/assets", **multipart(PNG + b"\x00" * (limit - len(PNG)), asset_type="token"))
    assert edge.status_code == 201 and edge.json()["size_bytes"] == limit
    over = PNG + b"\x00" * (limit - len(PNG) + 1)
    refused = await account.api.post("/v1/assets", **multipart(over, asset_type="token"))
    assert refused.status_code == 413 and refused.json()["error"] == "payload_too_large"
    assert "2 MB" in refused.json()["message"]
    # The same bytes are a fine map.
    assert (await account.api.post("/v1/assets", **multipart(over, asset_type="map"))).status_code == 201


async def test_a_declared_length_over_the_largest_limit_is_refused_before_the_body_is_sent(server, accounts):
    account = await accounts()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /v1/assets HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        + f"Authorization: Bearer {account.token}\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
    )
    await writer.drain()
    async with asyncio.timeout(10):
        status = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status.startswith(b"HTTP/1.1 413")


async def test_identical_files_are_stored_once_and_another_users_asset_is_404(server, accounts):
    first, second = await accounts(), await accounts()
    mine = (await first.api.post("/v1/assets", **multipart(PNG))).json()
    theirs = (await second.api.post("/v1/assets", **multipart(PNG))).json()
    assert mine["url"] == theirs["url"]
    assert (await second.api.get(f"/v1/assets/{mine['id']}")).status_code == 404
    assert (await second.api.delete(f"/v1/assets/{mine['id']}")).status_code == 404
    assert (await first.api.delete(f"/v1/assets/{mine['id']}")).status_code == 204
    assert (await second.api.get(theirs["url"])).content == PNG


async def test_an_avatar_is_one_of_your_image_assets(accounts):
    account, other = await accounts(), await accounts()
    portrait = (await account.api.post("/v1/assets", **multipart(PNG, asset_type="portrait"))).json()
    song = (await account.api.post("/v1/assets", **multipart(OGG, asset_type="audio"))).json()
    foreign = (await other.api.post("/v1/assets", **multipart(PNG + b"!", asset_type="portrait"))).json()
    for refused in (song["id"], foreign["id"], 999999):
        response = await account.api.patch("/v1/users/me", json={"avatar_asset_id": refused})
        assert response.status_code == 400 and response.json()["details"][0]["field"] == "avatar_asset_id"
    chosen = await account.api.patch("/v1/users/me", json={"avatar_asset_id": portrait["id"]})
    assert chosen.json()["avatar_asset_id"] == portrait["id"]
    await account.api.delete(f"/v1/assets/{portrait['id']}")
    assert (await account.api.get("/v1/users/me")).json()["avatar_asset_id"] is None


async def test_served_names_are_only_ours(accounts):
    account = await accounts()
    for name in ("../../etc/passwd", "abc.png", "0" * 64 + ".html", "0" * 64 + ".png"):
        assert (await account.api.get(f"/assets/{name}")).status_code == 404


class TestQuotas:
    @pytest.fixture
    def settings(self, settings):
        tiny = dataclasses.replace(DEFAULT_PLANS[0], storage_bytes=3000, assets=3)
        return dataclasses.replace(settings, plans=(tiny, *DEFAULT_PLANS[1:]))

    async def test_the_storage_quota_at_its_edge(self, accounts):
        account = await accounts()
        assert (await account.api.post("/v1/assets", **multipart(PNG + b"\x00" * 1792))).status_code == 201  # 2000
        over = await account.api.post("/v1/assets", **multipart(PNG + b"\x01" * 793))  # 1001
        assert over.status_code == 403 and over.json()["error"] == "subscription_required"
        exact = await account.api.post("/v1/assets", **multipart(PNG + b"\x02" * 792))  # 1000: exactly 3000
        assert exact.status_code == 201

    async def test_the_number_of_assets_at_its_edge(self, accounts):
        account = await accounts()
        for number in range(3):
            assert (await account.api.post("/v1/assets", **multipart(PNG[:20] + bytes([number])))).status_code == 201
        refused = await account.api.post("/v1/assets", **multipart(PNG[:20] + b"x"))
        assert refused.status_code == 403 and refused.json()["error"] == "subscription_required"
