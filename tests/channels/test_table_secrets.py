"""Canaries: the numbers of a roll and the text of a whisper never reach a member who may not see them,
in any WebSocket frame (live or replayed), long-poll answer (parked or replayed) or history page."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import uuid
from dataclasses import dataclass, field

import pytest

from server.settings import Settings
from tests.live import Client, LiveServer, Socket, game_table

POLL = "/api/realtime/poll.php"
REDACTED_KEYS = {"roller_user_id", "visibility", "hidden"}


@dataclass
class Secret:
    """One secret: who gets it in full, who only its redacted form; everyone else gets nothing."""

    name: str
    canary: str  # a unique text: the roll's label, or the whisper's text
    numbers: re.Pattern[str] | None  # every total the roll can have, and its constant
    full: set[str]
    redacted: set[str] = field(default_factory=set)
    event_id: int = 0


def numbers(constant: int, sides: int = 20) -> re.Pattern[str]:
    values = [constant, *range(constant + 1, constant + sides + 1)]
    return re.compile(r"(?<!\d)(" + "|".join(map(str, values)) + r")(?!\d)")


@dataclass
class Seen:
    """Everything one member received, raw and parsed."""

    raw: list[str] = field(default_factory=list)
    forms: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # (channel, event_id) -> event_data

    def add(self, channel: str, events: list[dict], raw: str) -> None:
        self.raw.append(raw)
        for event in events:
            self.forms.setdefault((channel, event["event_id"]), []).append(event["event_data"])


async def socket_until(socket: Socket, last: int, seen: Seen, channel: str) -> None:
    while True:
        frame = await socket.frame(timeout=10)
        events = [frame] if frame["type"] == "event" else []
        seen.add(channel, events, json.dumps(frame))
        if events and frame["event_id"] >= last:
            return


async def poll_until(client: Client, session_id: int, cursor: int, last: int, seen: Seen) -> None:
    while cursor < last:
        response = await client.get(POLL, session_id=session_id, last_event_id=cursor, timeout=10)
        data = response.json()["data"]
        seen.add("poll", data["events"], response.text)
        cursor = data["last_event_id"]


async def parked(server: LiveServer, count: int) -> None:
    """Wait until `count` connections (sockets and parked polls) are in the hub, so that the polls take
    the live path; the hub has no event for that, and the assertions hold on either path."""
    async with asyncio.timeout(10):
        while server.services.hub.connections < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """On both databases (the audience filter is SQL). The DM posts a sentinel after each secret: faster
    than the default chat rate allows."""
    url = settings.database_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return dataclasses.replace(settings, database_url=url, chat_per_second=1000, chat_per_minute=1000)


async def test_blind_rolls_and_whispers_reach_only_whom_they_may(server: LiveServer):
    dm, (p1, p2), session_id = await game_table(server)
    members = {"dm": dm, "p1": p1, "p2": p2}
    tag = uuid.uuid4().hex[:10]

    def canary(letter: str) -> str:
        return f"canary-{letter}-{tag}"

    roll = "/api/dice/roll.php"
    say = "/api/chat/send.php"
    steps: list[tuple[Secret, Client, str, dict]] = [
        (Secret("blind", canary("a"), numbers(7101), {"dm"}, {"p1", "p2"}), p1, roll, {"visibility": "blind"}),
        (Secret("dm", canary("b"), numbers(7202), {"p1", "dm"}, {"p2"}), p1, roll, {"visibility": "dm"}),
        (Secret("self", canary("c"), numbers(7303), {"p1"}), p1, roll, {"visibility": "self"}),
        (
            Secret("whispered roll", canary("d"), numbers(7404), {"p1", "p2"}),
            p1,
            roll,
            {"visibility": {"whisper_to": [p2.user_id]}},
        ),
        (Secret("dm blind", canary("e"), numbers(7505), {"dm"}, {"p1", "p2"}), dm, roll, {"visibility": "blind"}),
        (Secret("whisper", canary("f"), None, {"p1", "p2"}), p1, say, {"to": [p2.user_id]}),
        (Secret("dm whisper", canary("g"), None, {"dm", "p1"}), dm, say, {"to": [p1.user_id]}),
    ]
    seen = {name: Seen() for name in members}
    live = {name: await client.socket(session_id) for name, client in members.items()}
    for name, socket in live.items():
        seen[name].add("hello", [], json.dumps(await socket.frame()))
    cursors = {name: await server.services.event_log.head(session_id) for name in members}

    for number, (secret, sender, path, extra) in enumerate(steps):
        polls = {
            name: asyncio.create_task(client.get(POLL, session_id=session_id, last_event_id=cursors[name], timeout=20))
            for name, client in members.items()
        }
        await parked(server, len(live) + len(polls))
        if path == roll:
            constant = 7101 + 101 * number
            body = {"expression": f"1d20+{constant}", "label": secret.canary, **extra}
        else:
            body = {"text": secret.canary, **extra}
        answer = await sender.post(path, {"session_id": session_id, **body})
        sender_name = next(name for name, client in members.items() if client is sender)
        seen[sender_name].raw.append(answer.text)
        result = answer.json()["data"]
        secret.event_id = result.get("roll_id") or result["message_id"]
        sentinel = await dm.ok(say, {"session_id": session_id, "text": f"sentinel {number}"})
        for name, task in polls.items():
            response = await task
            data = response.json()["data"]
            seen[name].add("poll", data["events"], response.text)
            await poll_until(members[name], session_id, data["last_event_id"], sentinel["message_id"], seen[name])
            cursors[name] = sentinel["message_id"]
    last = sentinel["message_id"]

    for name, client in members.items():
        await socket_until(live[name], last, seen[name], "socket")
        await socket_until(await client.socket(session_id, last_event_id=0), last, seen[name], "replay")
        await poll_until(client, session_id, 0, last, seen[name])
        for path, key in (("/api/dice/history.php", "rolls"), ("/api/chat/history.php", "messages")):
            response = await client.get(path, session_id=session_id, limit=100)
            items = [
                i if "event_data" in i else {"event_id": i["message_id"], "event_data": i}
                for i in response.json()["data"][key]
            ]
            seen[name].add(path, items, response.text)

    for secret, *_ in steps:
        for name in members:
            text = "\n".join(seen[name].raw)
            if name in secret.full:
                assert secret.canary in text, (secret.name, name)  # the scan can see a canary when it is there
                for channel in ("socket", "replay", "poll"):
                    assert seen[name].forms[(channel, secret.event_id)][0]["total" if secret.numbers else "text"]
                continue
            assert secret.canary not in text, (secret.name, name)
            if secret.numbers is not None:
                assert not secret.numbers.search(text), (secret.name, name, secret.numbers.search(text))
            for channel in ("socket", "replay", "poll"):
                forms = seen[name].forms.get((channel, secret.event_id), [])
                if name in secret.redacted:
                    assert forms and all(set(form) == REDACTED_KEYS for form in forms), (secret.name, name, channel)
                else:
                    assert forms == [], (secret.name, name, channel)
