"""Forum image upload and serving, over real HTTP (and raw sockets where the timing of the refusal is the
point): size limit while streaming, type from the bytes, random names, atomic writes."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest

from tests.live import BOUNDARY, MULTIPART, ROLES, UPLOAD, Client, LiveServer, cast, form, png, upload

LIMIT = 5 * 1024 * 1024


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x11" * 200 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
SCRIPT = b"#!/bin/sh\necho pwned > /tmp/pwned\n" + b"# padding\n" * 10


def stored_files(upload_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(upload_dir)) for p in upload_dir.rglob("*") if p.is_file())


async def test_a_good_jpeg_is_stored_under_a_random_name_and_served_back(server: LiveServer):
    player = await Client(server).register()
    response = await upload(player, "holiday photo.JPG", JPEG, post_id="42")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Image uploaded successfully"
    name = body["data"]["filename"]
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name) and body["data"]["url"] == f"/images/forum/{name}"

    served = await player.http.get(body["data"]["url"])
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    anonymous = await Client(server).http.get(body["data"]["url"])
    assert anonymous.status_code == 200  # public by an unguessable name, like an attachment link

    row = await server.services.db.fetch_one("SELECT * FROM forum_images WHERE stored_name = :n", {"n": name})
    assert row is not None
    assert (row["user_id"], row["post_id"], row["content_type"], row["size_bytes"]) == (
        player.user_id,
        42,
        "image/jpeg",
        len(JPEG),
    )


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("a.jpeg", JPEG, "image/jpeg"),
        ("a.png", png(), "image/png"),
        ("a.gif", GIF, "image/gif"),
        ("a.webp", WEBP, "image/webp"),
    ],
)
async def test_each_accepted_type_is_served_with_its_content_type(server: LiveServer, filename, content, content_type):
    player = await Client(server).register()
    response = await upload(player, filename, content)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["filename"].endswith("." + content_type.split("/")[1].replace("jpeg", "jpg"))
    served = await player.http.get(data["url"])
    assert served.headers["content-type"] == content_type and served.content == content


async def test_refused_files_leave_nothing_on_disk(server: LiveServer, settings):
    player = await Client(server).register()
    refusals = [
        (await upload(player, "image.png", SCRIPT), 400),  # a script renamed .png
        (await upload(player, "image.gif", png()), 400),  # a PNG named .gif
        (await upload(player, "image.exe", png()), 400),  # a PNG with an extension we do not take
        (await upload(player, "noextension", JPEG), 400),
        (await upload(player, "tiny.png", b"\x89PN"), 400),  # shorter than any signature
        (await upload(player, "empty.png", b""), 400),
        (await upload(player, "big.png", png(LIMIT + 1 - len(png()))), 413),  # 5 MB + 1 byte
        (await upload(player, "a.png", png(), post_id="seven"), 400),
        (await upload(player, None, png(), field="file"), 400),  # a field, not a file
        (await upload(player, "a.png", png(), field="image"), 400),  # no `file` part
        (await player.post(UPLOAD, json={"file": "x"}), 400),  # not multipart
        (await player.post(UPLOAD, content=b"--nope", headers=dict(MULTIPART)), 400),  # malformed
    ]  # fmt: skip
    for number, (response, status) in enumerate(refusals):
        assert response.status_code == status, (number, response.text)
        assert response.json()["status"] == "error"
    assert "file" in refusals[0][0].json()["errors"] and "file" in refusals[1][0].json()["errors"]
    assert refusals[7][0].json()["errors"] == {"post_id": "Post ID must be a whole number from 1 to 2147483647"}

    good = (await upload(player, "good.jpg", JPEG)).json()["data"]["filename"]
    assert stored_files(settings.upload_dir) == [f"forum/{good}"]
    assert await server.services.db.fetch_val("SELECT count(*) FROM forum_images") == 1


async def test_exactly_five_megabytes_is_accepted(server: LiveServer, settings):
    player = await Client(server).register()
    content = png(LIMIT - len(png()))
    assert len(content) == LIMIT
    response = await upload(player, "big.png", content)
    assert response.status_code == 200, response.text
    assert (settings.upload_dir / "forum" / response.json()["data"]["filename"]).stat().st_size == LIMIT


async def test_a_traversal_file_name_only_gives_the_extension(server: LiveServer, settings, tmp_path):
    player = await Client(server).register()
    for name in ("../../evil.png", "..\\..\\evil.png", "/etc/evil.png"):
        response = await upload(player, name, png())
        assert response.status_code == 200, response.text
        assert re.fullmatch(r"[0-9a-f]{32}\.png", response.json()["data"]["filename"])
    assert not list(tmp_path.rglob("evil*")) and not Path("/etc/evil.png").exists()
    assert len(stored_files(settings.upload_dir)) == 3


@pytest.mark.parametrize(
    "name", ["nothere.png", "..%2F..%2Fvtt.db", "ABCDEF.png", "abc.svg", "abc.png.part", ".incoming-x.part", "abc"]
)
async def test_unknown_and_malicious_image_names_are_404(server: LiveServer, name):
    player = await Client(server).register()
    await upload(player, "a.png", png())
    response = await player.http.get(f"/images/forum/{name}")
    assert response.status_code == 404


async def _raw_request(server: LiveServer, client: Client, headers: dict[str, str], body_chunks) -> bytes:
    """Send a request over a plain socket, feeding the body from `body_chunks` in the background, and
    return the status line and headers of the answer as soon as they arrive."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    lines = [
        f"POST {UPLOAD} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Cookie: sessionToken={client.http.cookies.get('sessionToken')}",
        f"X-CSRF-Token: {client.csrf}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        *(f"{key}: {value}" for key, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def feed() -> None:
        for chunk in body_chunks:
            writer.write(chunk)
            await writer.drain()

    feeder = asyncio.create_task(feed())
    try:
        async with asyncio.timeout(10):
            answer = await reader.readuntil(b"\r\n\r\n")
    finally:
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await feeder
        writer.close()
    return answer


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server: LiveServer):
    player = await Client(server).register()
    answer = await _raw_request(server, player, {"Content-Length": str(50 * LIMIT)}, [])
    assert answer.startswith(b"HTTP/1.1 413")


async def test_a_chunked_body_is_refused_while_it_streams_in(server: LiveServer, settings):
    player = await Client(server).register()
    head = form("big.png", b"")[: -len(f"\r\n--{BOUNDARY}--\r\n")]
    payload = head + png() + b"\x00" * (LIMIT + 1)

    def chunks():
        # The final zero-length chunk is never sent: the server must answer before the body ends.
        for start in range(0, len(payload), 64 * 1024):
            piece = payload[start : start + 64 * 1024]
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    answer = await _raw_request(server, player, {"Transfer-Encoding": "chunked"}, chunks())
    assert answer.startswith(b"HTTP/1.1 413")
    # The temporary file is removed before the answer is sent: nothing is left.
    assert stored_files(settings.upload_dir) == []


async def test_uploads_by_role(server: LiveServer):
    """Uploading is not tied to a game session: every logged-in user may, with the CSRF token."""
    c = await cast(server)
    for role, expected in zip(ROLES, (401, 200, 200, 200, 200), strict=True):
        response = await upload(c.by_role(role), "a.png", png())
        assert response.status_code == expected, (role, response.text)
    c.player.csrf = None
    response = await upload(c.player, "a.png", png())
    assert response.status_code == 403 and response.json()["error"] == "csrf_token_invalid"
