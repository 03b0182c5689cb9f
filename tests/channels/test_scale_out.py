"""Several server processes over real PostgreSQL and real Redis act as one."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from tests.live import FIGHTER, PASSWORD, Client, ServerProcess, closed_with, game_table, until_connections


@pytest.fixture
async def processes(postgres_url, redis_process, tmp_path):
    env = {
        "DATABASE_URL": postgres_url,
        "BROADCAST_URL": redis_process.url,
        "RATE_LIMIT_ATTEMPTS": "1000",
        "SECRET_KEY": "a shared secret for both processes",
    }
    first = await ServerProcess(env, tmp_path / "a.log").start()
    second = await ServerProcess(env, tmp_path / "b.log").start()
    yield first, second
    for process in (first, second):
        await process.stop()
    if os.environ.get("SHOW_SERVER_LOGS"):
        print((tmp_path / "a.log").read_text(), (tmp_path / "b.log").read_text())


async def as_user_on(process: ServerProcess, client: Client) -> Client:
    """The same person, logged in through another process."""
    other = Client(process)  # type: ignore[arg-type]
    assert (await other.login(client.user["username"], PASSWORD)).status_code == 200
    return other


async def test_a_socket_on_one_process_hears_a_change_made_on_the_other(processes):
    a, b = processes
    dm_a, (player_a, _), session_id = await game_table(a)  # type: ignore[arg-type]
    socket = await player_a.socket(session_id, last_event_id=10**9)
    head = (await socket.frame())["head_event_id"]
    dm_b = await as_user_on(b, dm_a)
    await dm_b.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 12})
    event = await socket.event()
    assert event["event_id"] == head + 1 and event["event_data"]["volume"] == 12


async def test_a_poll_on_one_process_hears_a_change_made_on_the_other(processes):
    a, b = processes
    dm_a, (player_a, _), session_id = await game_table(a)  # type: ignore[arg-type]
    player_b = await as_user_on(b, player_a)
    poll = "/api/realtime/poll.php"
    head = (await player_b.get(poll, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    parked = asyncio.create_task(player_b.get(poll, session_id=session_id, last_event_id=head, timeout=25))
    await until_connections(player_b, 1)  # parked on B
    await dm_a.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 21})
    data = (await asyncio.wait_for(parked, 15)).json()["data"]
    assert [e["event_data"]["volume"] for e in data["events"]] == [21]
    # presence crosses processes too: the poller on B sees the DM only if the DM is online somewhere
    socket = await dm_a.socket(session_id, last_event_id=10**9)
    await socket.frame()
    async with asyncio.timeout(10):
        while True:
            data = (await player_b.get(poll, session_id=session_id, timeout=0)).json()["data"]
            if {u["user_id"] for u in data["online_users"]} == {dm_a.user_id, player_a.user_id}:
                break
            await asyncio.sleep(0.2)


async def test_delivery_survives_a_redis_restart_with_the_missed_events(processes, redis_process):
    a, b = processes
    dm_a, (player_a, _), session_id = await game_table(a)  # type: ignore[arg-type]
    socket = await player_a.socket(session_id, last_event_id=10**9)
    head = (await socket.frame())["head_event_id"]
    dm_b = await as_user_on(b, dm_a)
    redis_process.stop()
    # Published while Redis is down: the write succeeds, the publish is lost.
    await dm_b.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 1})
    await redis_process.start()
    missed = await socket.event(timeout=20)
    assert missed["event_id"] == head + 1 and missed["event_data"]["volume"] == 1
    # Whether or not the processes have resubscribed yet, the next event arrives: live, or by the sweep.
    await dm_b.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 2})
    following = await socket.event(timeout=20)
    assert following["event_id"] == head + 2 and following["event_data"]["volume"] == 2


async def test_ordering_holds_on_postgresql_with_concurrent_writers_on_both_processes(processes, postgres_url):
    a, b = processes
    dm_a, (player_a,), session_id = await game_table(a, players=1)  # type: ignore[arg-type]
    character = await player_a.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    connection = await asyncpg.connect(postgres_url)
    await connection.execute("UPDATE characters SET max_hp = 1000, current_hp = 1000")
    await connection.close()
    socket = await dm_a.socket(session_id, last_event_id=10**9)
    head = (await socket.frame())["head_event_id"]
    browsers = await asyncio.gather(*(as_user_on(a if n % 2 else b, dm_a) for n in range(50)))
    damages = [1 + n % 5 for n in range(50)]
    answers = await asyncio.gather(
        *(
            browser.post("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": d})
            for browser, d in zip(browsers, damages, strict=True)
        )
    )
    assert [r.status_code for r in answers] == [200] * 50
    events = await socket.events(50, timeout=30)
    assert [e["event_id"] for e in events] == list(range(head + 1, head + 51))
    hp = 1000
    for event in events:
        assert event["event_data"]["old_hp"] == hp
        hp = event["event_data"]["current_hp"]
    assert hp == 1000 - sum(damages)


async def test_a_blind_roll_crosses_processes_in_each_members_form(processes):
    """Rolled on one process, heard on the other: the DM gets the numbers, the players only that it was made."""
    a, b = processes
    dm_a, (player_a, player_b_on_a), session_id = await game_table(a)  # type: ignore[arg-type]
    dm_b, player_b = await as_user_on(b, dm_a), await as_user_on(b, player_b_on_a)
    dm_socket, other_socket = await dm_b.socket(session_id), await player_b.socket(session_id)
    await dm_socket.frame()
    await other_socket.frame()
    rolled = await player_a.ok(
        "/api/dice/roll.php", {"session_id": session_id, "expression": "1d20+7777", "visibility": "blind"}
    )
    assert set(rolled) == {"roll_id", "roller_user_id", "visibility", "hidden", "applied"}
    full = await dm_socket.event("dice_rolled", timeout=20)
    assert full["event_data"]["total"] - 7777 in range(1, 21)
    redacted = await other_socket.event("dice_rolled", timeout=20)
    assert redacted["event_id"] == full["event_id"]
    assert redacted["event_data"] == {"roller_user_id": player_a.user_id, "visibility": "blind", "hidden": True}


def same_browser_on(process: ServerProcess, client: Client) -> Client:
    """The same cookie, presented to another process."""
    other = Client(process)  # type: ignore[arg-type]
    other.http.cookies.set("sessionToken", client.http.cookies["sessionToken"])
    other.csrf, other.user = client.csrf, client.user
    return other


async def test_a_cookie_logged_out_or_ended_on_one_process_is_refused_on_the_other(processes):
    """Each process remembers a login session for up to a second; the end of one reaches the other through
    the control channel, which the other handles before (or as) it closes the user's sockets there."""
    a, b = processes
    _, (player_a, party_a), session_id = await game_table(a)  # type: ignore[arg-type]
    verify = "/api/auth/verify.php"
    for ending, on_a in (
        ("logout", player_a),
        ("password change of another session", party_a),
    ):
        on_b = same_browser_on(b, on_a)
        for _ in range(3):  # B has read the session just now and remembers it
            assert (await on_b.get(verify)).json()["data"]["authenticated"] is True, ending
        socket = await on_b.socket(session_id, last_event_id=10**9)
        await socket.frame()
        if ending == "logout":
            assert (await on_a.post("/api/auth/logout.php")).status_code == 200
        else:
            # The password changes through another login session of the same user, on A: this one ends.
            other = await as_user_on(a, on_a)
            changed = await other.post(
                "/v1/users/me/password", {"current_password": PASSWORD, "new_password": PASSWORD + "!"}
            )
            assert changed.status_code == 204, changed.text
        assert await closed_with(socket) == 4409, ending
        assert (await on_b.get(verify)).json()["data"]["authenticated"] is False, ending
        refused = await on_b.post("/api/session/create.php", {"session_title": "t", "session_datetime": "2099-01-01"})
        assert refused.status_code == 401, ending
