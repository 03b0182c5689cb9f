"""A py-spy profile of our server during one fan-out step (py-spy runs on the generator's cores)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from harness import REPO, VENV, WORK, loadgen_async, say, start_ours


def run(opts, results: dict) -> None:
    """py-spy attached to our server during one fan-out step."""
    rate = opts.profile_rate
    say(f"profile: py-spy on our server, fan-out {opts.sessions} x {opts.clients} at {rate}/s for {opts.duration}s")
    server, cfg = start_ours("profile-ours", opts.sessions)
    prof = WORK / "profile.speedscope.json"
    prof.unlink(missing_ok=True)
    spy = None
    try:
        cfg.update(
            workload="fanout",
            server_pid=server.pid,
            clients_per_session=opts.clients,
            rates=[rate],
            duration=opts.duration + 4,
            http_conns=50,
        )
        ready = WORK / "profile.ready"
        ready.unlink(missing_ok=True)
        cfg["ready_file"] = str(ready)
        gen = loadgen_async(cfg, "profile-ours")
        deadline = time.time() + 300
        while not ready.exists() and gen.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        # attached once the sockets are open: the profile is of the fan-out step only
        spy = subprocess.Popen(
            [
                str(VENV / "bin" / "py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                "100",
                "--format",
                "speedscope",
                "--output",
                str(prof),
                "--duration",
                str(int(opts.duration)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(WORK / "logs" / "py-spy.log", "wb"),
        )
        if gen.wait(600) != 0:
            raise RuntimeError("load generator failed")
        run = json.loads((WORK / "raw" / "profile-ours.json").read_text())
        spy.wait(60)
        results["profile"] = {"rate": rate, "run": run["steps"][0] if run["steps"] else None, **summarise_profile(prof)}
    except Exception as exc:
        say(f"profile failed: {exc}")
        results["profile"] = {"error": str(exc)}
        if spy is not None and spy.poll() is None:
            spy.kill()
    finally:
        server.stop()


EVENT_LOOP = "event loop's own C code (uvloop: epoll, socket reads/writes, callbacks)"
BUCKETS = [
    (
        "REST update-hp request (server/api/characters.py:update_hp: auth lookup, pydantic, transaction, publish)",
        lambda n, f: n == "update_hp" and f.endswith("server/api/characters.py"),
    ),
    (
        "WebSocket sends (server/channels/raw_send.py: the frame written to each socket; or _send_live -> "
        "uvicorn/websockets framing)",
        lambda n, f: n == "_send_live" or "server/channels/raw_send.py" in f,
    ),
    (
        "hub dispatch (server/channels/hub.py: _on_message, _drain, _fan_out)",
        lambda n, f: "server/channels/hub.py" in f,
    ),
    ("broadcaster memory backend listener", lambda n, f: "broadcaster/" in f),
    ("aiosqlite worker threads (SQLite executing statements)", lambda n, f: n == "_connection_worker_thread"),
    ("WebSocket receive side (server/channels/websocket.py:_receive)", lambda n, f: n == "_receive"),
    ("uvicorn HTTP protocol outside the handler (parsing, response write)", lambda n, f: "protocols/http/" in f),
    ("uvicorn WebSocket protocol outside the handler", lambda n, f: "protocols/websockets/" in f),
]

LIBS = [
    ("server/", "our code (server/)"),
    ("sqlalchemy/", "SQLAlchemy (query compile, used by databases)"),
    ("databases/", "databases (query wrapper)"),
    ("aiosqlite/", "aiosqlite worker thread (includes SQLite C execution)"),
    ("sqlite3/", "sqlite3"),
    ("websockets/", "websockets (frame encode/send)"),
    ("uvicorn/", "uvicorn (HTTP/WS protocol)"),
    ("starlette/", "Starlette (routing, requests)"),
    ("pydantic", "pydantic (validation)"),
    ("broadcaster/", "broadcaster (memory pub/sub)"),
    ("uvloop", "uvloop"),
    ("asyncio/runners.py", "event loop itself (uvloop C code: epoll, socket I/O, callbacks)"),
    ("asyncio/", "asyncio (tasks, locks, queues)"),
    ("orjson", "orjson"),
    ("concurrent/", "concurrent.futures / threading"),
    ("threading.py", "concurrent.futures / threading"),
    ("queue.py", "concurrent.futures / threading"),
]


def lib_of(file: str) -> str:
    for needle, label in LIBS:
        if needle in file:
            return label
    return "other (stdlib etc.)"


def summarise_profile(path: Path) -> dict:
    data = json.loads(path.read_bytes().decode("utf-8", "replace"))
    frames = data["shared"]["frames"]

    def fname(i: int, line: bool = True) -> str:
        f = frames[i]
        file = f.get("file", "")
        short = re.sub(r"^.*?/(site-packages|lib/python3\.\d+)/", "", file)
        short = short.replace(f"{REPO}/", "")  # our code as server/...
        return f"{f['name']} ({short}:{f.get('line', '')})" if line else f"{f['name']} ({short})"

    def idle(i: int) -> bool:
        """A thread blocked waiting for work (py-spy --nonblocking cannot always tell)."""
        f = frames[i]
        if f["name"] not in ("_connection_worker_thread", "_worker"):
            return False
        try:
            text = Path(f["file"]).read_text().splitlines()[f["line"] - 1]
            return "tx.get(" in text or "work_queue.get(" in text
        except (OSError, IndexError, KeyError):
            return False

    idle_total = 0.0
    buckets: dict[str, float] = {}
    sql_layer = 0.0
    total = 0
    per_thread = {}
    self_lib: dict[str, float] = {}
    self_fn: dict[str, float] = {}
    incl_fn: dict[str, float] = {}
    for prof in data["profiles"]:
        weights = prof.get("weights") or [1] * len(prof["samples"])
        thread = prof.get("name", "?")
        t_total = 0
        for stack, w in zip(prof["samples"], weights, strict=False):
            if not stack:
                continue
            if idle(stack[-1]):
                idle_total += w
                continue
            t_total += w
            names = [(frames[i]["name"], frames[i].get("file", "")) for i in stack]
            bucket = next((label for label, test in BUCKETS if any(test(n, f) for n, f in names)), None)
            if bucket is None:
                leaf_name, leaf_file = names[-1]
                bucket = (
                    EVENT_LOOP
                    if leaf_name == "run" and leaf_file.endswith("asyncio/runners.py")
                    else "other (start-up, timers, hub ticker, ...)"
                )
            buckets[bucket] = buckets.get(bucket, 0) + w
            if any(m in f for _, f in names for m in ("sqlalchemy/", "databases/", "aiosqlite/", "server/database.py")):
                sql_layer += w
            leaf = stack[-1]
            self_lib[lib_of(frames[leaf].get("file", ""))] = self_lib.get(lib_of(frames[leaf].get("file", "")), 0) + w
            self_fn[fname(leaf)] = self_fn.get(fname(leaf), 0) + w
            for key in {fname(i, line=False) for i in stack}:
                incl_fn[key] = incl_fn.get(key, 0) + w
        per_thread[thread] = t_total
        total += t_total

    def top(d: dict, n: int) -> list:
        return [[k, round(100 * v / total, 1)] for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:n]]

    entry = ("(server/serve.py)", "(server/cli.py)", "(server/__main__.py)")
    ours_incl = {k: v for k, v in incl_fn.items() if "(server/" in k and not k.endswith(entry)}
    return {
        "seconds": round(total, 2),
        "idle_seconds_excluded": round(idle_total, 2),
        "threads": {k: round(100 * v / total, 1) for k, v in sorted(per_thread.items(), key=lambda kv: -kv[1])},
        "self_by_library": top(self_lib, 16),
        "buckets": top(buckets, 12),
        "sql_layer_pct": round(100 * sql_layer / total, 1),
        "self_top": top(self_fn, 15),
        "inclusive_ours": top(ours_incl, 20),
        "inclusive_top": top({k: v for k, v in incl_fn.items()}, 30),
    }
