"""client/sdk/vtt-client.js, run by Node.js against a real server: the document's example works
(API key, login, campaign, asset upload) and a real-time subscription receives a game session's events."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.live import PASSWORD, Client, LiveServer, missing_service
from tests.v1.conftest import login

SDK = Path(__file__).resolve().parent.parent.parent / "client" / "sdk" / "vtt-client.js"

SCRIPT = """
import { VTTClient, VTTError } from %(sdk)s;
const env = process.env;
const say = (line) => console.log(JSON.stringify(line));
const client = new VTTClient({ apiKey: env.API_KEY, baseURL: env.BASE_URL });
const byKey = await client.users.me();
await client.auth.login(env.IDENTIFIER, env.PASSWORD);
const campaign = await client.campaigns.create({
  name: 'Lost Mine of Phandelver', system: 'dnd5e', description: 'A D&D 5e starter adventure',
});
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(100).fill(7)]);
const asset = await client.assets.upload({ file: new Blob([png]), type: 'map', name: 'Goblin Ambush Map' });
const served = await fetch(client.assets.url(asset));
const servedBytes = (await served.arrayBuffer()).byteLength;
let missing = null;
try { await client.campaigns.get(999999); } catch (error) { missing = error instanceof VTTError && error.code; }
const subscription = client.sessions.subscribe(Number(env.SESSION_ID), {
  onEvent: (event) => {
    if (event.event_type !== 'session_status_changed') return;
    subscription.close();
    say({ byKey: byKey.username, campaign, asset, servedType: served.headers.get('content-type'),
          servedBytes, missing, event, rateLimit: client.rateLimit });
  },
});
say('ready');
"""


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None:
        missing_service("node", "node", FileNotFoundError("Node.js is not installed"))
    assert found is not None
    return found


async def test_the_sdk_example_and_a_subscription_against_the_real_server(server: LiveServer, node, tmp_path):
    dm = await Client(server).register()
    assert dm.user is not None
    session = await dm.ok(
        "/api/session/create.php", {"session_title": "Cragmaw Hideout", "session_datetime": "2099-01-01 19:00:00"}
    )
    token = (await login(server.url, dm.user["username"])).json()["token"]
    key = (
        await dm.http.post("/v1/api-keys", json={"name": "sdk"}, headers={"Authorization": f"Bearer {token}"})
    ).json()["key"]
    script = tmp_path / "example.mjs"
    script.write_text(SCRIPT % {"sdk": json.dumps(SDK.as_uri())})
    process = await asyncio.create_subprocess_exec(
        node,
        str(script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "BASE_URL": f"{server.url}/v1",
            "API_KEY": key,
            "IDENTIFIER": dm.user["email"],
            "PASSWORD": PASSWORD,
            "SESSION_ID": str(session["session_id"]),
        },
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(60):
            first = await process.stdout.readline()
            assert json.loads(first or b"null") == "ready", (first, await process.stderr.read())
            await dm.ok("/api/session/start.php", {"session_id": session["session_id"]})
            result = json.loads(await process.stdout.readline())
            assert await process.wait() == 0, await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert result["byKey"] == dm.user["username"]
    assert result["campaign"]["name"] == "Lost Mine of Phandelver" and result["campaign"]["system"] == "dnd5e"
    assert result["asset"]["type"] == "map" and result["asset"]["content_type"] == "image/png"
    assert result["servedType"] == "image/png" and result["servedBytes"] == 108
    assert result["missing"] == "resource_not_found"
    assert result["event"]["event_data"] == {
        "session_id": session["session_id"],
        "old_status": "scheduled",
        "status": "active",
    }
    assert result["rateLimit"]["limit"] == 1000 and result["rateLimit"]["burstLimit"] == 50
