"""/metrics, scraped from a live server after real traffic: the numbers an operator watches move."""

from __future__ import annotations

import re

import httpx2 as httpx
from prometheus_client.parser import text_string_to_metric_families

from server.api.routes import ENDPOINTS
from server.app import create_app
from server.services import services
from server.settings import Settings
from tests.channels.test_slow_readers import drain, slow_socket, write_events
from tests.live import FIGHTER, LiveServer, ServerProcess, game_table, until_connections


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _scrape(client) -> dict:
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_metrics_move_with_real_traffic(server):
    dm, (player,), session_id = await game_table(server, players=1)
    before = await _scrape(dm)
    socket = await player.socket(session_id)
    await socket.frame()  # hello
    during = await _scrape(dm)
    assert _value(during, "vtt_connections", kind="socket") == 1

    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    await socket.event("character_created")
    await dm.ok("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": 2})
    await socket.event()
    await player.get("/api/character/get.php", character_id=999999)  # a 404
    after = await _scrape(dm)

    assert _value(after, "vtt_events_published_total") >= _value(before, "vtt_events_published_total") + 2
    assert _value(after, "vtt_events_delivered_total") >= _value(before, "vtt_events_delivered_total") + 2
    assert _value(after, "vtt_event_delivery_lag_seconds_count") > _value(
        before, "vtt_event_delivery_lag_seconds_count"
    )
    assert _value(after, "vtt_database_statement_seconds_count") > _value(
        before, "vtt_database_statement_seconds_count"
    )
    assert _value(after, "vtt_send_queue_frames", measure="total") >= 0
    ok = _value(
        after,
        "vtt_http_request_duration_seconds_count",
        route="/api/character/update-hp.php",
        method="POST",
        status="200",
    )
    assert ok == 1
    missing = _value(
        after, "vtt_http_request_duration_seconds_count", route="/api/character/get.php", method="GET", status="404"
    )
    assert missing == 1
    # Labels carry the route template, never the raw path or its query string.
    text = (await dm.http.get("/metrics")).text
    templates = {path for path, _ in ENDPOINTS} | {"static", "unmatched"}
    assert set(re.findall(r'route="([^"]*)"', text)) <= templates

    await socket.close()


async def test_a_slow_reader_close_is_counted(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/vtt.db", upload_dir=tmp_path / "uploads", send_queue_limit=8
    )
    live = await LiveServer(settings).start()
    try:
        dm, _, session_id = await game_table(live, players=0)
        # A socket that stops reading, and more events than the kernel buffers hold: its queue passes 8.
        slow = await slow_socket(live, dm, session_id)
        await write_events(live, session_id)
        await until_connections(dm, 0)  # the server lets go of it although it has not read a byte
        after = await _scrape(dm)
        assert _value(after, "vtt_slow_reader_closes_total") == 1
        assert _value(after, "vtt_connections", kind="socket") == 0
        _, code = await drain(slow)
        assert code in (4408, None)  # closed as too slow, or dropped while its buffer was still full
    finally:
        await live.stop()


def test_each_app_has_its_own_registry(tmp_path):
    first = create_app(Settings(database_url=f"sqlite:///{tmp_path}/a.db"))
    second = create_app(Settings(database_url=f"sqlite:///{tmp_path}/b.db"))
    assert services(first).metrics.registry is not services(second).metrics.registry
    services(first).metrics.published(3)
    assert b"vtt_events_published_total 3.0" in services(first).metrics.exposition()
    assert b"vtt_events_published_total 0.0" in services(second).metrics.exposition()


async def test_processes_sharing_a_multiprocess_dir_report_together(tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db",
        "UPLOAD_DIR": str(tmp_path / "up"),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    first = await ServerProcess(env, tmp_path / "first.log").start()
    second = await ServerProcess(env, tmp_path / "second.log").start()
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(3):
                assert (await http.get(f"{first.url}/api/items/list.php")).status_code == 200
            text = (await http.get(f"{second.url}/metrics")).text
    finally:
        await first.stop()
        await second.stop()
    samples = _samples(text)
    route = {"route": "/api/items/list.php", "method": "GET", "status": "200"}
    assert _value(samples, "vtt_http_request_duration_seconds_count", **route) == 3  # counted by the first
    pids = {dict(labels).get("pid") for name, labels in samples if name == "vtt_connections"}
    assert len(pids) == 2  # a per-process gauge from each process


async def test_a_served_process_reports_its_garbage_collector_pauses(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/vtt.db", "UPLOAD_DIR": str(tmp_path / "up")}
    process = await ServerProcess(env, tmp_path / "server.log").start()
    try:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"{process.url}/metrics")).text
    finally:
        await process.stop()
    samples = _samples(text)
    # The full pass before freezing what start-up built is the first one the operator sees.
    assert _value(samples, "vtt_gc_pause_seconds_count", generation="2") >= 1
    assert _value(samples, "vtt_gc_longest_pause_seconds") > 0
