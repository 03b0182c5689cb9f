"""Long-poll: parked polls against the legacy once-a-second re-query (bench/loadgen.py:longpoll)."""

from __future__ import annotations

from workloads import each_server

SERVERS = ("ours", "legacy")


def run(opts, results: dict) -> None:
    each_server(
        "longpoll",
        SERVERS,
        opts,
        results,
        lambda kind: (
            f"{opts.polls:,} parked polls over {opts.sessions} sessions, {opts.poll_rounds} round(s) of one event "
            "per session"
        ),
        lambda kind, server: {
            "workload": "longpoll",
            "polls": opts.polls,
            "rounds": opts.poll_rounds,
            "park_seconds": opts.park_seconds,
        },
    )
