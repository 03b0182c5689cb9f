"""Fan-out: S sessions x C sockets; open loop at rising rates of update-hp (bench/loadgen.py:fanout)."""

from __future__ import annotations

from workloads import each_server

SERVERS = ("ours", "pysio", "node")


def run(opts, results: dict) -> None:
    each_server(
        "fanout",
        SERVERS,
        opts,
        results,
        lambda kind: (
            f"{opts.sessions} sessions x {opts.clients} sockets, rates {opts.rates}/s then {opts.refine} "
            f"bisection(s) after the first break, {opts.duration}s per step"
        ),
        lambda kind, server: {
            "workload": "fanout",
            "clients_per_session": opts.clients,
            "rates": opts.rates,
            "refine": opts.refine,
            "duration": opts.duration,
            "drain": opts.drain,
            "http_conns": 50,
        },
    )
