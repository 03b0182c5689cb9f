"""Diagnostic, not part of the harness: where the memory of an idle WebSocket goes in our server.

Starts our server (uvicorn, as `python -m server serve` runs it, with tracemalloc on) as a child process
on a fresh SQLite file, registers a DM and S game sessions through the API, then opens N WebSockets that
read their hello and stay idle. Before and after the sockets it asks the server (SIGUSR1) for a
tracemalloc snapshot, the live objects by type and its tasks; it prints, per socket: the RSS growth, the
traced bytes by allocating line and by file, the objects by type, and the tasks and coroutines by name.

    .venv/bin/python bench/diag/socket_memory.py [--sockets 1000] [--sessions 10] [--depth 1]  (repo root)

tracemalloc makes the server slower and its own bookkeeping is not in the traced bytes; the RSS growth is
measured beside it, so read the two together (the bench's idle workload measures RSS without tracing).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
from collections import Counter
from pathlib import Path

PASSWORD = "correct horse battery staple"


# ----------------------------------------------------------------------------------------- server side


def serve(port: int, out: Path, depth: int) -> None:
    sys.path.insert(0, os.getcwd())
    tracemalloc.start(depth)
    from server import serve as serving
    from server.settings import from_environment

    def dump(signum: int, frame: object) -> None:
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        by_type = Counter(type(o).__qualname__ for o in gc.get_objects())
        tasks: Counter[str] = Counter()
        coroutines: Counter[str] = Counter()
        loop = asyncio.get_event_loop()
        for task in asyncio.all_tasks(loop):
            coro = task.get_coro()
            tasks[getattr(coro, "__qualname__", repr(coro))] += 1
        for o in gc.get_objects():
            # not asyncio.iscoroutine: its ABC check would cache every type it meets, in the measurement
            if type(o) is types.CoroutineType and o.cr_frame is not None:
                coroutines[o.__qualname__] += 1
        rss = int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024  # type: ignore[union-attr]
        partial = out.with_suffix(".partial")
        with open(partial, "wb") as f:
            found = {"snapshot": snapshot, "types": by_type, "tasks": tasks, "coroutines": coroutines, "rss": rss}
            pickle.dump(found, f)
        partial.rename(out)  # whole, or not there

    signal.signal(signal.SIGUSR1, dump)
    serving.server(from_environment(), "127.0.0.1", port, log_level="warning").run()


# ----------------------------------------------------------------------------------------- client side


def call(conn: http.client.HTTPConnection, cookie: str, csrf: str, path: str, body: dict) -> tuple[dict, str]:
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers |= {"Cookie": f"sessionToken={cookie}", "X-CSRF-Token": csrf}
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"{path} -> {response.status}: {data}")
    found = re.search(r"sessionToken=([^;]+)", response.getheader("set-cookie") or "")
    return data["data"], found.group(1) if found else cookie


def set_up(port: int, sessions: int) -> tuple[str, list[int]]:
    deadline = time.monotonic() + 180
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", "/api/health")
            if conn.getresponse().read():
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    user, cookie = call(
        conn, "", "", "/api/auth/register.php", {"username": "diag", "email": "d@example.com", "password": PASSWORD}
    )
    ids = []
    for i in range(sessions):
        created, _ = call(
            conn,
            cookie,
            user["csrf_token"],
            "/api/session/create.php",
            {"session_title": f"Diag {i}", "session_datetime": "2099-01-01 20:00:00"},
        )
        ids.append(created["session_id"])
    return cookie, ids


async def open_sockets(port: int, cookie: str, ids: list[int], count: int) -> list:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(100)

    async def one(i: int):
        async with gate:
            ws = await connect(
                f"ws://127.0.0.1:{port}/api/realtime/ws?session_id={ids[i % len(ids)]}",
                additional_headers={"Cookie": f"sessionToken={cookie}"},
                compression=None,
                ping_interval=None,
            )
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello
            return ws

    return await asyncio.gather(*(one(i) for i in range(count)))


def snapshot(child: subprocess.Popen, out: Path) -> dict:
    out.unlink(missing_ok=True)
    child.send_signal(signal.SIGUSR1)
    for _ in range(1200):
        time.sleep(0.05)
        if out.exists():
            with open(out, "rb") as f:
                return pickle.load(f)
    raise RuntimeError("no snapshot from the server")


def report(before: dict, after: dict, n: int, top: int) -> None:
    print(f"RSS: {(after['rss'] - before['rss']) / n / 1024:.1f} KiB per socket")
    diff = after["snapshot"].compare_to(before["snapshot"], "filename")
    print(f"traced: {sum(d.size_diff for d in diff) / n / 1024:.1f} KiB per socket\nby file (bytes per socket):")
    for d in sorted(diff, key=lambda d: -d.size_diff)[:top]:
        print(f"  {d.size_diff / n:8.0f}  {d.count_diff / n:6.1f} blocks  {d.traceback[0].filename}")
    print("by line (bytes per socket):")
    for d in sorted(after["snapshot"].compare_to(before["snapshot"], "lineno"), key=lambda d: -d.size_diff)[:top]:
        frame = d.traceback[0]
        print(f"  {d.size_diff / n:8.0f}  {d.count_diff / n:6.1f} blocks  {frame.filename}:{frame.lineno}")
    if (
        len(diff_frames := after["snapshot"].compare_to(before["snapshot"], "traceback"))
        and len(diff_frames[0].traceback) > 1
    ):
        print("by traceback (bytes per socket), innermost frame first:")
        for d in sorted(diff_frames, key=lambda d: -d.size_diff)[:top]:
            print(f"  {d.size_diff / n:8.0f}  {d.count_diff / n:6.1f} blocks")
            for frame in d.traceback:
                print(f"      {frame.filename}:{frame.lineno}")
    for name in ("types", "tasks", "coroutines"):
        grown = {k: (after[name][k] - before[name].get(k, 0)) / n for k in after[name]}
        print(f"{name} per socket:")
        for k, v in sorted(grown.items(), key=lambda kv: -kv[1])[:top]:
            if v >= 0.05:
                print(f"  {v:6.2f}  {k}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--depth", type=int, default=1, help="tracemalloc frames per allocation")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]), int(args.serve[2]))
        return
    work = Path(tempfile.mkdtemp(prefix="socket-memory-"))
    out = work / "snapshot.pickle"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'diag.db'}",
        "BROADCAST_URL": "memory://",
        "MAX_CONNECTIONS": "1000000",
        "MAX_USER_CONNECTIONS": "1000000",
        "CONNECTION_RATE": "1000000/second",
        "RATE_LIMIT_ATTEMPTS": "1000000",
        "SECRET_KEY": "socket-memory-diagnostic-key",
    }
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(out), str(args.depth)], env=env)
    try:
        cookie, ids = set_up(port, args.sessions)
        warm = asyncio.run(_warm(port, cookie, ids))  # first-use allocations (imports, caches) are not per socket
        before = snapshot(child, out)

        async def hold() -> dict:
            sockets = await open_sockets(port, cookie, ids, args.sockets)
            await asyncio.sleep(3)
            found = await asyncio.to_thread(snapshot, child, out)
            for ws in sockets:
                await ws.close()
            return found

        after = asyncio.run(hold())
        del warm
        report(before, after, args.sockets, args.top)
    finally:
        child.terminate()
        child.wait(30)


async def _warm(port: int, cookie: str, ids: list[int]) -> int:
    sockets = await open_sockets(port, cookie, ids, 20)
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(1)
    return len(sockets)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
