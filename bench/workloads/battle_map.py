"""The battle-map scenarios of issue 10 (drags, mapview): bench/maps.py against a fresh server of ours.
They need no peers; their section of RESULTS.md is written by bench/maps_report.py."""

from __future__ import annotations

from harness import gc_summary, loadgen, ours, say

WORKLOADS = ("drags", "mapview")


def _run(name: str, results: dict, **cfg) -> None:
    server, _url = ours(f"{name}-ours")
    server.start()
    try:
        cfg.update(workload=name, port=server.port, server_pid=server.pid)
        results[name] = loadgen(cfg, name, script="maps.py")
    finally:
        server.stop()
    results[name]["gc"] = gc_summary(server.gc_pauses())


def drags(opts, results: dict) -> None:
    say(
        f"drags: {opts.drag_sessions} sessions x {opts.drag_players} players at {opts.drag_rate} positions/s "
        f"for {opts.drag_seconds}s, then as many durable moves (at most {opts.move_seconds}s)"
    )
    _run(
        "drags",
        results,
        sessions=opts.drag_sessions,
        players=opts.drag_players,
        rate=opts.drag_rate,
        duration=opts.drag_seconds,
        move_conns=opts.write_conns,
        move_seconds=opts.move_seconds,
    )


def mapview(opts, results: dict) -> None:
    say("map view: 200 tokens, 5,000 revealed fog cells; a player's first full view against verify.php")
    _run("mapview", results, tokens=200, fog=5000, views=opts.views)
