"""Runs a Python server under test the way the bench runs every server (stdlib only: it runs in the
server's venv and in the bench venv alike).

    python serverwrap.py GC_OUT.json -m server serve --port N     # a module, like python -m
    python serverwrap.py GC_OUT.json peers/pysio_server.py N DB  # a script

- Logging: unless BENCH_ACCESS_LOG=1, nothing below WARNING is logged (logging.disable), whatever the
  server configures: our server logs each request and each WebSocket at INFO, the uvicorn peers run at
  WARNING and the Node peer logs nothing, so by default no server logs per request.
- Garbage collector: gc.callbacks time every pass; at exit (SIGTERM included) the pauses go to GC_OUT.json as
  {"pauses": [[end (epoch s), wall seconds, generation, CPU seconds], ...]} (passes of 0.1 ms or more,
  and every full pass). The CPU seconds are the pass's own work; the wall seconds also hold the time the
  process waited for its core, which on a busy machine can be most of it.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import runpy
import signal
import sys
import time

MIN_SECONDS = 0.0001


def main() -> None:
    out, rest = sys.argv[1], sys.argv[2:]
    if os.environ.get("BENCH_ACCESS_LOG") != "1":
        logging.disable(logging.INFO)
    pauses: list[list[float]] = []
    began = [0.0, 0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[:] = time.perf_counter(), time.thread_time()
            return
        seconds = time.perf_counter() - began[0]
        if seconds >= MIN_SECONDS or info["generation"] == 2:
            cpu = time.thread_time() - began[1]
            pauses.append([round(time.time(), 4), round(seconds, 6), info["generation"], round(cpu, 6)])

    gc.callbacks.append(timed)

    def dump() -> None:
        with open(out, "w") as f:
            json.dump({"pauses": pauses}, f)

    atexit.register(dump)

    def terminated(signum: int, frame: object) -> None:
        # uvicorn restores the handler it found and raises SIGTERM again after its graceful shutdown: with
        # the default handler the process would die before atexit runs
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminated)
    # sys.path[0] is bench/ (this file's folder): put there what `python -m` or `python script.py` would
    if rest[0] == "-m":
        sys.argv = [rest[1], *rest[2:]]
        sys.path[0] = os.getcwd()
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = rest
        sys.path[0] = os.path.dirname(os.path.abspath(rest[0]))
        runpy.run_path(rest[0], run_name="__main__")


if __name__ == "__main__":
    main()
