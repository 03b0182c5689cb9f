"""Writes: closed-loop update-hp with C sockets per session subscribed (bench/loadgen.py:writes)."""

from __future__ import annotations

from workloads import each_server

SERVERS = ("ours", "ours-pg", "pysio", "node", "legacy")
SHORT = ("ours", "pysio", "node")  # --short without --servers: the ratios only, to stay under 3 minutes


def run(opts, results: dict) -> None:
    each_server(
        "writes",
        SHORT if opts.short and not opts.servers_given else SERVERS,
        opts,
        results,
        lambda kind: (
            f"{opts.write_conns} connections back to back for {opts.duration}s, "
            + ("no sockets (long-poll only)" if kind == "legacy" else f"{opts.clients} sockets per session")
        ),
        lambda kind, server: {
            "workload": "writes",
            "duration": opts.duration,
            "http_conns": opts.write_conns,
            "clients_per_session": opts.clients,
        },
    )
