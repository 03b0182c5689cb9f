"""The workloads, one module each. Every workload runs each server it applies to (in the order of
`SERVERS` in harness.py, filtered by `--servers`) as a fresh pinned process, one after the other, and
records the load generator's result with the server's garbage-collector pauses."""

from __future__ import annotations

from collections.abc import Callable

from harness import SERVERS, Server, gc_summary, loadgen, say, start, stop


def each_server(
    workload: str,
    kinds: tuple[str, ...],
    opts,
    results: dict,
    describe: Callable[[str], str],
    config: Callable[[str, Server], dict],
    after: Callable[[dict, Server], None] | None = None,
) -> None:
    """Start each selected server of `kinds`, run the load generator with config(kind, server), stop it."""
    results[workload] = {}
    for kind in (k for k in SERVERS if k in kinds and k in opts.servers):
        say(f"{workload}: {SERVERS[kind]}: {describe(kind)}")
        try:
            server, cfg = start(kind, f"{workload}-{kind}", opts.sessions)
        except Exception as exc:  # PostgreSQL not running, say: report it, go on with the others
            say(f"{workload}: {kind} could not start ({exc}); skipped")
            results[workload][kind] = {"skipped": str(exc)[:200]}
            continue
        try:
            cfg.update(server_pid=server.pid, **config(kind, server))
            result = loadgen(cfg, f"{workload}-{kind}")
        except Exception as exc:  # the generator failed or timed out: report it, go on with the others
            say(f"{workload}: {kind}: the load generator failed ({exc}); skipped")
            results[workload][kind] = {"skipped": f"load generator failed: {str(exc)[:160]}"}
            continue
        finally:
            stop(kind, server)
        window = result.get("run_epoch")  # the load only: not the collection our server makes after start-up
        result["gc"] = gc_summary(server.gc_pauses(), (window[0], window[1]) if window else None)
        if after is not None:
            after(result, server)
        results[workload][kind] = result
