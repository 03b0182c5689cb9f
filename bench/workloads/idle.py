"""Idle connections: N WebSockets, memory per socket, then one broadcast per session to all of them,
with the server's longest garbage-collector pause during that broadcast (bench/loadgen.py:idle)."""

from __future__ import annotations

from harness import Server, gc_summary
from workloads import each_server

SERVERS = ("ours", "pysio", "node")


def _broadcast_gc(result: dict, server: Server) -> None:
    window = result["broadcast"].get("window_epoch")
    if window:
        result["broadcast"]["gc"] = gc_summary(server.gc_pauses(), (window[0], window[1]))


def run(opts, results: dict) -> None:
    each_server(
        "idle",
        SERVERS,
        opts,
        results,
        lambda kind: f"{opts.idle:,} sockets over {opts.sessions} sessions",
        lambda kind, server: {
            "workload": "idle",
            "connections": opts.idle,
            "settle": opts.settle,
            "connect_seconds": opts.connect_seconds,
        },
        after=_broadcast_gc,
    )
