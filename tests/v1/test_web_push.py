"""Web Push against a real local HTTP server standing in for a browser's push service: it checks the VAPID
JWT against the served public key and decrypts each push with the subscription's private key (aes128gcm),
as a browser would. A kind turned off for push is not pushed; 410 removes the subscription; endpoints
follow the webhooks' SSRF rules; keys and the count per account are bounded."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from server.settings import Settings, WebhookPolicy
from tests.live import Client, asgi_request, asgi_server, free_port


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's side of one push subscription: its key pair and auth secret."""

    def __init__(self, service: PushService, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.endpoint = f"{service.url}/push/{name}"

    def subscription(self) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": _b64(point), "auth": _b64(self.auth)}}


class PushService:
    """A real HTTP server taking pushes as a push service does; answers `answers[name]` (201 by default)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.browsers: dict[str, Browser] = {}
        self.answers: dict[str, int] = {}
        self.vapid_key = ""  # the server's public key, as it serves it
        self.pushes: list[dict[str, Any]] = []  # name, payload, claims
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self, name: str) -> Browser:
        self.browsers[name] = Browser(self, name)
        return self.browsers[name]

    def _claims(self, authorization: str) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        parts = dict(item.split("=", 1) for item in params.split(","))
        assert scheme == "vapid" and parts["k"] == self.vapid_key
        signed, _, signature = parts["t"].rpartition(".")
        raw = _unb64(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(self.vapid_key))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, signed.encode(), ec.ECDSA(hashes.SHA256()))  # raises if not signed by that key
        header, claims = (json.loads(_unb64(part)) for part in signed.split("."))
        assert header["alg"] == "ES256"
        return claims

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body, headers = await asgi_request(scope, receive)
        name = scope["path"].rsplit("/", 1)[-1]
        browser = self.browsers[name]
        claims = self._claims(headers["authorization"])
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
        clear = http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm")
        async with self._arrived:
            self.pushes.append({"name": name, "payload": json.loads(clear), "claims": claims})
            self._arrived.notify_all()
        status = self.answers.get(name, 201)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def wait_for(self, name: str, count: int) -> list[dict[str, Any]]:
        """The pushes to `name`, once there are `count`."""
        async with asyncio.timeout(20), self._arrived:
            await self._arrived.wait_for(lambda: len(self.to(name)) >= count)
        return self.to(name)

    def to(self, name: str) -> list[dict[str, Any]]:
        return [push for push in self.pushes if push["name"] == name]


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()
    async with asgi_server(service.app, service.port):
        yield service


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = WebhookPolicy(allowed_hosts=("127.0.0.1",), retry_base=0.05, poll_interval=0.02, timeout=5, lease=15)
    return dataclasses.replace(settings, webhooks=policy, vapid_subject="mailto:ops@vtt.example.com")


async def _subscribe(client: Client, body: dict[str, Any]) -> Any:
    return await client.http.post(
        "/v1/notifications/push-subscriptions", json=body, headers={"X-CSRF-Token": client.csrf}
    )


async def _invite(dm: Client, title: str, *players: Client) -> None:
    session = await dm.ok(
        "/api/session/create.php", {"session_title": title, "session_datetime": "2099-03-01 19:00:00"}
    )
    for player in players:
        await dm.ok(
            "/api/session/invite-player.php", {"session_id": session["session_id"], "username": player.user["username"]}
        )


async def test_a_notification_is_pushed_encrypted_and_signed_to_each_browser_that_wants_it(server, push_service):
    dm = await Client(server).register()
    player = await Client(server).register()
    other = await Client(server).register()
    key = (await player.http.get("/v1/notifications/push-key")).json()["public_key"]
    push_service.vapid_key = key
    assert len(_unb64(key)) == 65
    laptop, phone, elsewhere = push_service.browser("laptop"), push_service.browser("phone"), push_service.browser("b")
    push_service.answers["phone"] = 410  # that browser unsubscribed
    for client, browser in ((player, laptop), (player, phone), (other, elsewhere)):
        saved = await _subscribe(client, browser.subscription())
        assert saved.status_code == 201, saved.text
    await _invite(dm, "Castle Amber", player)
    [pushed] = await push_service.wait_for("laptop", 1)
    assert pushed["payload"]["kind"] == "invitation" and pushed["payload"]["data"]["session_title"] == "Castle Amber"
    assert pushed["claims"]["aud"] == push_service.url and pushed["claims"]["sub"] == "mailto:ops@vtt.example.com"
    assert pushed["claims"]["exp"] > time.time()
    await push_service.wait_for("phone", 1)
    async with asyncio.timeout(20):
        # The server removes it once the push service has answered: only the API tells when.
        while len(listed := (await player.http.get("/v1/notifications/push-subscriptions")).json()["data"]) > 1:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert [entry["endpoint"] for entry in listed] == [laptop.endpoint]

    csrf = {"X-CSRF-Token": player.csrf}
    off = await player.http.patch("/v1/notifications/preferences", json={"invitation": {"push": False}}, headers=csrf)
    assert off.json()["invitation"] == {"in_app": True, "email": True, "push": False}
    await _invite(dm, "Tomb of Horrors", player, other)
    [barrier] = await push_service.wait_for("b", 1)
    assert barrier["payload"]["data"]["session_title"] == "Tomb of Horrors"
    assert len(push_service.to("laptop")) == 1  # turned off for push: in the app only
    assert len((await player.http.get("/v1/notifications")).json()["data"]) == 2

    deleted = await player.http.delete(f"/v1/notifications/push-subscriptions/{listed[0]['id']}", headers=csrf)
    assert deleted.status_code == 204
    again = await player.http.delete(f"/v1/notifications/push-subscriptions/{listed[0]['id']}", headers=csrf)
    assert again.status_code == 404


async def test_push_subscriptions_refuse_private_endpoints_bad_keys_and_more_than_ten(server, push_service):
    player = await Client(server).register()
    good = push_service.browser("x").subscription()
    refusals = {
        "https://169.254.169.254/push": ("endpoint", "url_not_allowed"),
        "http://10.0.0.8/push": ("endpoint", "url_not_allowed"),
        "https://localhost/push": ("endpoint", "url_not_allowed"),
    }
    for endpoint, (field, code) in refusals.items():
        refused = await _subscribe(player, {**good, "endpoint": endpoint})
        assert refused.status_code == 400 and refused.json()["details"][0] == {
            "field": field,
            "code": code,
            "message": refused.json()["details"][0]["message"],
        }, refused.text
    for keys in (
        {"p256dh": "AAAA", "auth": good["keys"]["auth"]},
        {"p256dh": good["keys"]["p256dh"], "auth": "x" * 31},
    ):
        refused = await _subscribe(player, {**good, "keys": keys})
        assert refused.status_code == 400, refused.text
    for number in range(10):
        saved = await _subscribe(player, {**good, "endpoint": f"{push_service.url}/push/n{number}"})
        assert saved.status_code == 201, saved.text
    again = await _subscribe(player, {**good, "endpoint": f"{push_service.url}/push/n3"})  # the same browser again
    assert again.status_code == 201
    eleventh = await _subscribe(player, {**good, "endpoint": f"{push_service.url}/push/n10"})
    assert eleventh.status_code == 400 and "at most 10" in eleventh.json()["details"][0]["message"]
    assert len((await player.http.get("/v1/notifications/push-subscriptions")).json()["data"]) == 10
