"""The benchmark harness: one command, everything on 127.0.0.1.

    /tmp/venv/bin/python bench/run.py            # full run (~6.5 min on 2 cores), writes bench/RESULTS.md
    /tmp/venv/bin/python bench/run.py --quick    # smoke run: fewer steps, fewer sockets

The Python that runs this file is the one that runs our server (its venv has the server's dependencies);
override with SERVER_PYTHON=/path/to/python. On first use the harness makes its own venv in
bench/.work/venv from bench/requirements.txt (psutil, matplotlib, py-spy, python-socketio, uvicorn, ...)
and runs `npm ci` in bench/peers/node, then re-runs itself in that venv.

Every server runs as its own process (fresh database each time); the load comes from bench/loadgen.py,
a separate process. Workloads: fan-out, idle connections, long-poll, writes; then a py-spy profile of
our server under the fan-out load. Results: bench/RESULTS.md, bench/latency.png (raw: bench/.work/).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import maps_report

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
VENV = WORK / "venv"
VENV_PY = VENV / "bin" / "python"
NODE_DIR = BENCH / "peers" / "node"
PASSWORD = "correct horse battery staple"
SECRET = "bench-secret-key-0123456789abcdef"
HP = 100_000_000


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------------------- bootstrap


def bootstrap() -> None:
    """Create the bench venv and the node peer's node_modules, then re-exec in the venv."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    os.environ.setdefault("SERVER_PYTHON", sys.executable)
    WORK.mkdir(exist_ok=True)
    req = (BENCH / "requirements.txt").read_bytes()
    stamp = VENV / "requirements.stamp"
    if not stamp.exists() or stamp.read_bytes() != req:
        say(f"creating the bench venv {VENV} from bench/requirements.txt")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")], check=True)
        stamp.write_bytes(req)
    if set(only_workloads()) - set(MAP_WORKLOADS) and (
        not (NODE_DIR / "node_modules" / "socket.io").exists()
        or not (NODE_DIR / "node_modules" / "better-sqlite3").exists()
    ):
        say("npm ci in bench/peers/node (socket.io 4, better-sqlite3 12)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])


MAP_WORKLOADS = ("drags", "mapview")  # battle-map scenarios (bench/maps.py): our server only, no peers


def only_workloads() -> list[str]:
    """The --only list from the command line, read before argparse (bootstrap needs it)."""
    for i, arg in enumerate(sys.argv):
        if arg == "--only" and i + 1 < len(sys.argv):
            return sys.argv[i + 1].split(",")
        if arg.startswith("--only="):
            return arg.removeprefix("--only=").split(",")
    return ["fanout"]


# ------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server under test, as its own process."""

    def __init__(self, name: str, argv: list[str], env: dict | None = None, cwd: Path = REPO) -> None:
        self.name = name
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.log = WORK / "logs" / f"{name}.log"

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/health")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def fresh_db(name: str) -> Path:
    path = WORK / "db" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def server_python() -> str:
    return os.environ.get("SERVER_PYTHON") or sys.executable


def ours(name: str, database_url: str | None = None, wrap: list[str] | None = None) -> tuple[Server, str]:
    url = database_url or f"sqlite:///{fresh_db(name)}"
    env = {
        "DATABASE_URL": url,
        "BROADCAST_URL": "memory://",
        "RATE_LIMIT_ATTEMPTS": "1000000",
        "MAX_CONNECTIONS": "100000",
        # The benchmarks open many sockets per user from one address: lift the per-user and per-address caps.
        "MAX_USER_CONNECTIONS": "1000000",
        "CONNECTION_RATE": "1000000/second",
        "SECRET_KEY": SECRET,
    }
    argv = [*(wrap or []), server_python(), "-m", "server", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return Server(name, argv, env), url


class Api:
    """A tiny synchronous client for set-up through the real API."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.csrf = ""

    def post(self, path: str, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = f"sessionToken={self.cookie}"
            headers["X-CSRF-Token"] = self.csrf
        self.conn.request("POST", path, json.dumps(body), headers)
        response = self.conn.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{path} -> {response.status}: {data}")
        cookie = response.getheader("set-cookie") or ""
        match = re.search(r"sessionToken=([^;]+)", cookie)
        if match:
            self.cookie = match.group(1)
        return data["data"]


def setup_ours(server: Server, sessions: int) -> dict:
    """Register a DM, create S game sessions with one fighter each, through the API."""
    api = Api(server.port)
    user = api.post(
        "/api/auth/register.php", {"username": "bench_dm", "email": "bench_dm@example.com", "password": PASSWORD}
    )
    api.csrf = user["csrf_token"]
    from maps import FIGHTER  # here, not at the top: maps needs the bench venv, which bootstrap() makes

    pairs = []
    for i in range(sessions):
        sid = api.post(
            "/api/session/create.php", {"session_title": f"Bench {i}", "session_datetime": "2099-01-01 20:00:00"}
        )["session_id"]
        cid = api.post(
            "/api/character/create.php",
            {**FIGHTER, "character_name": f"Fighter {i}", "session_id": sid},
        )["character_id"]
        pairs.append((sid, cid))
    return {"cookie": api.cookie, "csrf": api.csrf, "sessions": pairs}


def raise_hp(database_url: str) -> None:
    sql = f"UPDATE characters SET max_hp = {HP}, current_hp = {HP}"
    if database_url.startswith("sqlite"):
        db = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
        db.execute(sql)
        db.commit()
        db.close()
    else:
        import asyncio

        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(database_url)
            await conn.execute(sql)
            await conn.close()

        asyncio.run(run())


def start_ours(name: str, sessions: int, database_url: str | None = None, wrap: list[str] | None = None):
    server, url = ours(name, database_url, wrap)
    server.start()
    setup = setup_ours(server, sessions)
    raise_hp(url)
    return server, {**setup, "flavour": "ours", "port": server.port}


def start_peer(kind: str, name: str, sessions: int):
    sys.path.insert(0, str(BENCH / "peers"))
    import schema

    db = fresh_db(name)
    seeded = schema.seed(str(db), sessions)
    if kind == "sio":
        argv = [sys.executable, str(BENCH / "peers" / "pysio_server.py"), "{port}", str(db)]
    elif kind == "node":
        argv = ["node", str(NODE_DIR / "server.js"), "{port}", str(db)]
    else:
        argv = [sys.executable, str(BENCH / "peers" / "legacy_server.py"), "{port}", str(db)]
    server = Server(name, argv).start()
    return server, {
        "cookie": seeded["token"],
        "csrf": "",
        "sessions": seeded["sessions"],
        "flavour": "sio" if kind in ("sio", "node") else "legacy",
        "port": server.port,
    }


def loadgen_async(cfg: dict, label: str) -> subprocess.Popen:
    path = WORK / "cfg" / f"{label}.json"
    (WORK / "raw").mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg))
    return subprocess.Popen([sys.executable, str(BENCH / "loadgen.py"), str(path), str(WORK / "raw" / f"{label}.json")])


def loadgen(cfg: dict, label: str) -> dict:
    path = WORK / "cfg" / f"{label}.json"
    out = WORK / "raw" / f"{label}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg))
    subprocess.run([sys.executable, str(BENCH / "loadgen.py"), str(path), str(out)], check=True, timeout=600)
    return json.loads(out.read_text())


SERVERS = {
    "ours": "ours (Starlette/uvicorn)",
    "sio": "python-socketio 5 / uvicorn",
    "node": "Node Socket.IO 4",
    "legacy": "legacy 1 s DB poll",
}


def start(kind: str, name: str, sessions: int, **kw):
    if kind == "ours":
        return start_ours(name, sessions, **kw)
    return start_peer(kind, name, sessions)


# ----------------------------------------------------------------------------------------- workloads


def run_fanout(opts, results: dict) -> None:
    results["fanout"] = {}
    for kind in ("ours", "sio", "node"):
        say(
            f"fan-out: {SERVERS[kind]}: {opts.sessions} sessions x {opts.clients} sockets, rates {opts.rates}/s, "
            f"{opts.duration}s per step"
        )
        server, cfg = start(kind, f"fanout-{kind}", opts.sessions)
        try:
            cfg.update(
                workload="fanout",
                server_pid=server.pid,
                clients_per_session=opts.clients,
                rates=opts.rates,
                duration=opts.duration,
                http_conns=50,
            )
            results["fanout"][kind] = loadgen(cfg, f"fanout-{kind}")
        finally:
            server.stop()


def run_idle(opts, results: dict) -> None:
    results["idle"] = {}
    for kind in ("ours", "sio", "node"):
        say(f"idle connections: {SERVERS[kind]}: {opts.idle} sockets over {opts.sessions} sessions")
        server, cfg = start(kind, f"idle-{kind}", opts.sessions)
        try:
            cfg.update(workload="idle", server_pid=server.pid, connections=opts.idle)
            results["idle"][kind] = loadgen(cfg, f"idle-{kind}")
        finally:
            server.stop()


def run_longpoll(opts, results: dict) -> None:
    results["longpoll"] = {}
    for kind in ("ours", "legacy"):
        say(
            f"long-poll: {SERVERS[kind]}: {opts.polls} parked polls over {opts.sessions} sessions, "
            f"{opts.poll_rounds} rounds of one event per session"
        )
        server, cfg = start(kind, f"longpoll-{kind}", opts.sessions)
        try:
            cfg.update(workload="longpoll", server_pid=server.pid, polls=opts.polls, rounds=opts.poll_rounds)
            results["longpoll"][kind] = loadgen(cfg, f"longpoll-{kind}")
        finally:
            server.stop()


def postgres_admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(opts_pg_admin())
        for statement in sql.split(";"):
            if statement.strip():
                await conn.execute(statement)
        await conn.close()

    asyncio.run(run())


def opts_pg_admin() -> str:
    return os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def run_writes(opts, results: dict) -> None:
    results["writes"] = {}
    targets = [("ours", "ours"), ("ours-pg", "ours"), ("sio", "sio"), ("node", "node"), ("legacy", "legacy")]
    for label, kind in targets:
        kw = {}
        if label == "ours-pg":
            try:
                postgres_admin("DROP DATABASE IF EXISTS bench_vtt; CREATE DATABASE bench_vtt")
            except Exception as exc:
                say(f"writes: PostgreSQL unavailable ({exc}); skipped")
                results["writes"][label] = {"skipped": str(exc)}
                continue
            kw["database_url"] = opts_pg_admin().rsplit("/", 1)[0] + "/bench_vtt"
        say(
            f"writes: {label}: {opts.write_conns} connections back to back for {opts.duration}s, "
            f"one subscriber per session"
        )
        server, cfg = start(kind, f"writes-{label}", opts.sessions, **kw)
        try:
            cfg.update(workload="writes", server_pid=server.pid, duration=opts.duration, http_conns=opts.write_conns)
            results["writes"][label] = loadgen(cfg, f"writes-{label}")
        finally:
            server.stop()
            if label == "ours-pg":
                try:
                    postgres_admin("DROP DATABASE IF EXISTS bench_vtt")
                except Exception as exc:
                    say(f"could not drop bench_vtt: {exc}")


def run_maps(name: str, opts, results: dict, **cfg) -> None:
    """One battle-map scenario of bench/maps.py against a fresh server of ours."""
    server, _url = ours(f"{name}-ours")
    server.start()
    try:
        cfg.update(workload=name, port=server.port, server_pid=server.pid)
        path, out = WORK / "cfg" / f"{name}.json", WORK / "raw" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cfg))
        subprocess.run([sys.executable, str(BENCH / "maps.py"), str(path), str(out)], check=True, timeout=900)
        results[name] = json.loads(out.read_text())
    finally:
        server.stop()


def run_drags(opts, results: dict) -> None:
    say(
        f"drags: {opts.drag_sessions} sessions x {opts.drag_players} players at {opts.drag_rate} positions/s "
        f"for {opts.drag_seconds}s, then as many durable moves (at most {opts.move_seconds}s)"
    )
    run_maps(
        "drags",
        opts,
        results,
        sessions=opts.drag_sessions,
        players=opts.drag_players,
        rate=opts.drag_rate,
        duration=opts.drag_seconds,
        move_conns=opts.write_conns,
        move_seconds=opts.move_seconds,
    )


def run_mapview(opts, results: dict) -> None:
    say("map view: 200 tokens, 5,000 revealed fog cells; a player's first full view against verify.php")
    run_maps("mapview", opts, results, tokens=200, fog=5000, views=opts.views)


def run_profile(opts, results: dict) -> None:
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
        "WebSocket live send (server/channels/websocket.py:_send_live -> uvicorn/websockets framing)",
        lambda n, f: n == "_send_live",
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
        short = re.sub(r"^.*?/work/main/", "", short)
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


# -------------------------------------------------------------------------------------------- report


def machine() -> dict:
    import psutil

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    osname = platform.platform()
    if Path("/etc/os-release").exists():
        m = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        if m:
            osname = f"{m.group(1)} (kernel {platform.release()})"

    def version(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[-1]
        except Exception:
            return "?"

    def node_package(name: str) -> str:  # absent when only the battle-map workloads ran (no npm ci)
        path = NODE_DIR / "node_modules" / name / "package.json"
        return json.loads(path.read_text())["version"] if path.exists() else "not installed"

    pkg, bsq = node_package("socket.io"), node_package("better-sqlite3")
    from importlib.metadata import version as pyver

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": osname,
        "python_server": version([server_python(), "-c", "import sys; print(sys.version.split()[0])"]),
        "python_bench": platform.python_version(),
        "node": version(["node", "--version"]),
        "versions": f"socket.io {pkg}, better-sqlite3 {bsq}, python-socketio {pyver('python-socketio')}, "
        f"uvicorn (peer) {pyver('uvicorn')}, "
        + version(
            [
                server_python(),
                "-c",
                "import uvicorn, starlette, websockets; print("
                "f'uvicorn (ours) {uvicorn.__version__}, starlette {starlette.__version__}, "
                "websockets {websockets.__version__}')",
            ]
        ),
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "git": git_state(),
    }


def git_state() -> str:
    """Read-only: the commit the server code was at, and whether server/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "server", "schema.sql"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return f"{head}" + (f" plus {len(dirty.splitlines())} uncommitted file(s) under server/" if dirty else "")
    except Exception:
        return "?"


def fmt(v, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def ratio(a, b) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}x"


def sustained(steps: list[dict]) -> dict | None:
    """The last step before the first saturated one."""
    result = None
    for step in steps:
        if step.get("saturated"):
            break
        result = step
    return result


def fanout_summary(res: dict) -> dict:
    steps = res["steps"]
    sus = sustained(steps)
    broke = next((s for s in steps if s.get("saturated")), None)
    peak = max(steps, key=lambda s: s["delivered_per_s"]) if steps else None
    at200 = next((s for s in steps if s["rate"] == 200), None)
    return {"sustained": sus, "broke": broke, "peak": peak, "at200": at200}


def write_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    colors = {"ours": "tab:blue", "sio": "tab:orange", "node": "tab:green", "legacy": "tab:red"}
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.2))
    ax = axes[0]
    for kind, res in results.get("fanout", {}).items():
        s = fanout_summary(res)
        for step, style in ((s["at200"], "-"), (s["sustained"], "--")):
            if not step or not step["samples_ms"] or (style == "--" and step is s["at200"]):
                continue
            v = np.sort(np.array(step["samples_ms"]))
            ax.plot(
                v,
                np.arange(1, len(v) + 1) / len(v),
                style,
                color=colors[kind],
                label=f"{SERVERS[kind]} @ {step['rate']}/s",
            )
    ax.set_xscale("log")
    ax.set_xlabel("mutation -> delivery latency (ms, log)")
    ax.set_ylabel("fraction of deliveries")
    ax.set_title("Fan-out latency CDF (solid: 200/s, dashed: highest sustained)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    ax = axes[1]
    for kind, res in results.get("fanout", {}).items():
        rates = [s["rate"] for s in res["steps"]]
        ax.plot(
            rates,
            [s["latency_ms"]["p50"] for s in res["steps"]],
            "o-",
            color=colors[kind],
            label=f"{SERVERS[kind]} p50",
        )
        ax.plot(
            rates,
            [s["latency_ms"]["p99"] for s in res["steps"]],
            "s--",
            color=colors[kind],
            label=f"{SERVERS[kind]} p99",
        )
    ax.axhline(20, color="gray", linestyle=":", label="goal: p99 20 ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered mutations/s (log)")
    ax.set_ylabel("latency (ms, log)")
    ax.set_title("Fan-out latency vs offered rate (last point: saturated)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)

    ax = axes[2]
    for kind, res in results.get("longpoll", {}).items():
        if res.get("samples_ms"):
            v = np.sort(np.array(res["samples_ms"]))
            ax.plot(v, np.arange(1, len(v) + 1) / len(v), color=colors[kind], label=SERVERS[kind])
    ax.set_xscale("log")
    ax.set_xlabel("mutation -> poll answer latency (ms, log)")
    ax.set_title("Long-poll delivery latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    if results.get("longpoll"):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_report(results: dict, path: Path) -> list[list[str]]:
    m = results["machine"]
    o = results["options"]
    L: list[str] = []
    w = L.append
    w("# Benchmarks: our real-time server against python-socketio, Node Socket.IO and the legacy poll\n")
    w(
        f"Generated by `{results['command']}` on {results['finished']} in {results['elapsed_s'] / 60:.1f} min. "
        "Every server ran as its own process on 127.0.0.1 with a fresh database; the load came from "
        "`bench/loadgen.py`, a separate asyncio/uvloop process with raw-socket HTTP/1.1 and WebSocket clients. "
        "Raw numbers: `bench/.work/results.json` (not committed).\n"
    )
    w("## Machine\n")
    w("| | |\n|---|---|")
    w(f"| CPU | {m['cpu']} |\n| cores | {m['cores']} (server and load generator share them: one each) |")
    w(f"| RAM | {m['ram_gib']} GiB |\n| OS | {m['os']} |")
    w(f"| Python | {m['python_server']} (our server), {m['python_bench']} (peers, generator) |")
    w(f"| Node | {m['node']} |\n| versions | {m['versions']} |\n| open files limit | {m['nofile']} |")
    w(f"| server code | {m.get('git', '?')} |\n")
    w("## What every server does\n")
    w(
        "The same work per mutation everywhere: a REST `POST /api/character/update-hp.php {character_id, damage: 1}` "
        "with the login cookie; in one SQLite transaction read the character (and its session's DM), write its HP, "
        "advance the session's event head (the event id) and insert one row into `session_events`; then push the "
        'same envelope `{event_id, event_type: "character_hp_updated", event_data{character_id, character_name, '
        "user_id, old_hp, current_hp, max_hp, damage, healing, is_dead}, created_at}` to every client of the game "
        "session. The peers: `bench/peers/pysio_server.py` (python-socketio ASGI on uvicorn, aiosqlite, one room "
        "per session), `bench/peers/node/server.js` (Socket.IO 4 on node:http, better-sqlite3 12, one room per "
        "session), `bench/peers/legacy_server.py` (uvicorn + aiosqlite; a poll re-queries `session_events` once a "
        "second). Our server additionally resolves the cookie's HMAC, checks CSRF, validates with pydantic, and "
        "keeps its delivery guarantee (gapless ids, ordered dispatch, resume) — that is part of what is measured.\n"
    )
    w(
        "Latency is measured in the generator: time a client's socket received the event minus the time the "
        "generator wrote the REST request (matched by (character_id, resulting current_hp); HP only goes down by "
        "1, so every pair is unique). Lost and duplicated events are counted per client from the consecutive "
        "event ids. Server CPU (100% = one core) and peak RSS are psutil on the server pid; *gen CPU* is the load "
        "generator's own CPU over the same interval, to show it was not the bottleneck.\n"
    )

    # ---- fan-out
    headline: list[list[str]] = []
    if "fanout" in results:
        fo = results["fanout"]
        w(
            f"## 1. Fan-out: {o['sessions']} sessions x {o['clients']} sockets = {o['sessions'] * o['clients']:,} "
            "connections\n"
        )
        w(
            f"Open loop: R mutations/s round-robin over the sessions, {o['duration']} s per step, 50 keep-alive "
            "REST connections; R doubles until the server saturates (it could not send ≥98% of the offered "
            "requests in time, answered <90% of R, p99 > 500 ms or lost an event); that step is the last row.\n"
        )
        for kind, res in fo.items():
            w(f"### {SERVERS[kind]}\n")
            w(
                "| offered R/s | answered/s | delivered events/s | p50 ms | p95 ms | p99 ms | max ms | lost | dup "
                "| REST p50 ms | server CPU | peak RSS MiB | gen CPU |"
            )
            w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for s in res["steps"]:
                lm = s["latency_ms"]
                mark = " (saturated)" if s.get("saturated") else ""
                w(
                    f"| {s['rate']:,}{mark} | {fmt(s['achieved_rate'])} | {fmt(s['delivered_per_s'])} | "
                    f"{fmt(lm['p50'], 2)} | {fmt(lm['p95'], 2)} | {fmt(lm['p99'], 2)} | {fmt(lm['max'], 1)} | "
                    f"{s['lost']} | {s['duplicated']} | {fmt(s['rest_ms']['p50'], 2)} | {s['server_cpu_pct']}% | "
                    f"{s['server_peak_rss_mb']} | {s['gen_cpu_pct']}% |"
                )
            w("")
        w("### Summary and ratios\n")
        w(
            "| server | saturation: highest sustained R/s (broke at) | max delivered events/s | p99 @ 200/s | "
            "lost / dup (all steps) | ours / this: events/s |"
        )
        w("|---|---:|---:|---:|---:|---:|")
        ours_peak = fanout_summary(fo["ours"])["peak"]["delivered_per_s"] if "ours" in fo else None
        for kind, res in fo.items():
            s = fanout_summary(res)
            sus = s["sustained"]["rate"] if s["sustained"] else "none"
            broke = s["broke"]["rate"] if s["broke"] else f">{res['steps'][-1]['rate']}"
            p99 = s["at200"]["latency_ms"]["p99"] if s["at200"] else None
            lost = sum(x["lost"] for x in res["steps"])
            dups = sum(x["duplicated"] for x in res["steps"])
            w(
                f"| {SERVERS[kind]} | {fmt(sus)} ({broke}) | {fmt(s['peak']['delivered_per_s'])} | {fmt(p99, 2)} ms | "
                f"{lost} / {dups} | {ratio(ours_peak, s['peak']['delivered_per_s']) if kind != 'ours' else '1'} |"
            )
            headline.append([f"fan-out max delivered events/s ({SERVERS[kind]})", fmt(s["peak"]["delivered_per_s"])])
        w("")
    if "idle" in results:
        w(f"## 2. Idle connections: {o['idle']:,} WebSockets over {o['sessions']} sessions\n")
        w(
            "Memory per connection = (server RSS with all sockets open, after 3 s of settling − RSS before) / N. "
            "Then one mutation per session is delivered to all of them (the *broadcast* columns).\n"
        )
        w(
            "| server | open | connect time s (conn/s) | RSS before → after MiB | KiB per socket | idle CPU | "
            "broadcast p50 / p99 / max ms | lost / dup | ours / this: KiB per socket |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        idl = results["idle"]
        for kind, r in idl.items():
            b = r["broadcast"]["latency_ms"]
            w(
                f"| {SERVERS[kind]} | {r['open']:,} / {r['requested']:,} | "
                f"{r['connect_seconds']} ({fmt(r['connects_per_s'])}) "
                f"| {r['rss_before_mb']} → {r['rss_after_mb']} | {r['kib_per_socket']} | {r['idle_server_cpu_pct']}% | "
                f"{fmt(b['p50'], 1)} / {fmt(b['p99'], 1)} / {fmt(b['max'], 1)} | {r['broadcast']['lost']} / "
                f"{r['broadcast']['duplicated']} | "
                f"{ratio(idl['ours']['kib_per_socket'], r['kib_per_socket']) if kind != 'ours' else '1'} |"
            )
            headline.append([f"KiB per idle socket ({SERVERS[kind]})", fmt(r["kib_per_socket"], 1)])
        w("")
    if "longpoll" in results:
        lp = results["longpoll"]
        w(f"## 3. Long-poll: {o['polls']:,} parked polls over {o['sessions']} sessions\n")
        w(
            f"{o['poll_rounds']} rounds: park the polls (`timeout=25`), measure the server's CPU for 3 s while "
            "they wait, then one mutation per session (100/s); latency = poll answer received − mutation sent.\n"
        )
        w("| server | polls | delivery p50 / p95 / p99 / max ms | lost | server CPU while parked | ours / this: p50 |")
        w("|---|---:|---:|---:|---:|---:|")
        for kind, r in lp.items():
            lm = r["latency_ms"]
            w(
                f"| {SERVERS[kind]} | {r['polls']:,} | "
                f"{fmt(lm['p50'], 1)} / {fmt(lm['p95'], 1)} / {fmt(lm['p99'], 1)} / "
                f"{fmt(lm['max'], 1)} | {r['lost']} | {r['parked_server_cpu_pct']}% | "
                f"{ratio(lp['ours']['latency_ms']['p50'], lm['p50']) if 'ours' in lp and kind != 'ours' else '1'} |"
            )
            headline.append([f"long-poll p50 delivery ({SERVERS[kind]})", f"{fmt(lm['p50'], 1)} ms"])
        w("")
    if "writes" in results:
        wr = results["writes"]
        w("## 4. Writes: update-hp requests per second\n")
        w(
            f"Closed loop: {o['write_conns']} keep-alive connections send update-hp back to back for "
            f"{o['duration']} s over the {o['sessions']} characters; one WebSocket per session subscribed (none "
            "for the legacy server), so every write publishes an event that is delivered.\n"
        )
        w(
            "| server | database | requests/s | REST p50 / p99 ms | events delivered / expected | lost | server CPU "
            "| gen CPU | ours(SQLite) / this |"
        )
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        base = wr.get("ours", {}).get("requests_per_s")
        for label, r in wr.items():
            if "skipped" in r:
                w(f"| {label} | – | skipped: {r['skipped']} | | | | | | |")
                continue
            name = SERVERS["ours"] if label.startswith("ours") else SERVERS[label]
            dbname = "PostgreSQL 127.0.0.1" if label == "ours-pg" else "SQLite (WAL)"
            w(
                f"| {name} | {dbname} | {fmt(r['requests_per_s'])} | {fmt(r['rest_ms']['p50'], 2)} / "
                f"{fmt(r['rest_ms']['p99'], 2)} | {r['events_delivered']:,} / {r['events_expected']:,} | {r['lost']} | "
                f"{r['server_cpu_pct']}% | {r['gen_cpu_pct']}% | "
                f"{ratio(base, r['requests_per_s']) if label != 'ours' else '1'} |"
            )
            headline.append([f"update-hp/s ({name}, {dbname})", fmt(r["requests_per_s"])])
        w("")
    w("## Latency distributions\n")
    w("![latency distributions](latency.png)\n")
    if "profile" in results:
        p = results["profile"]
        w("## Profile of our hot path under fan-out\n")
        if "error" in p:
            w(f"Profiling failed: {p['error']}\n")
        else:
            run = p.get("run") or {}
            w(
                f"`py-spy record --rate 100 --format speedscope` attached to our server during a fan-out "
                f"step of {o['sessions']} x {o['clients']} sockets at {p['rate']} mutations/s "
                f"(server CPU {run.get('server_cpu_pct', '?')}%, p99 {run.get('latency_ms', {}).get('p99', '?')} ms; "
                f"py-spy adds some overhead). {p['seconds']} s of samples after dropping "
                f"{p['idle_seconds_excluded']} s in "
                "which aiosqlite's worker threads were blocked waiting for work; percentages are of all remaining "
                "samples of all threads (the aiosqlite threads are where SQLite itself runs). uvloop is C code that "
                "py-spy cannot see into: its time shows as the self time of `asyncio.run`.\n"
            )
            w("Threads: " + ", ".join(f"{k}: {v}%" for k, v in p["threads"].items()) + "\n")
            w("**Where the time goes, by activity** (each sample counted once, first match in this order):\n")
            w("| activity | % of samples |\n|---|---:|")
            for k, v in p["buckets"]:
                w(f"| {k} | {v} |")
            w(
                "\nThe query layer (server/database.py -> aiosqlite or asyncpg -> the database), "
                f"wherever "
                f"it is called from: **{p['sql_layer_pct']}%** of samples.\n"
            )
            w("**Self time by library** (where the CPU actually is):\n")
            w("| library | % of samples |\n|---|---:|")
            for k, v in p["self_by_library"]:
                w(f"| {k} | {v} |")
            w("\n**Inclusive time of our functions** (time spent in the function and what it calls):\n")
            w("| function | % of samples |\n|---|---:|")
            for k, v in p["inclusive_ours"]:
                w(f"| `{k}` | {v} |")
            w("\n**Top self time by function:**\n")
            w("| function | % of samples |\n|---|---:|")
            for k, v in p["self_top"]:
                w(f"| `{k}` | {v} |")
            w("")
    w("ANALYSIS_PLACEHOLDER\n")
    path.write_text("\n".join(L))
    return headline


# ---------------------------------------------------------------------------------------------- main


def run_map_only(args) -> None:
    """`--only drags,mapview`: run them, rewrite only the battle-map section of RESULTS.md."""
    args.write_conns = 32
    started = time.time()
    results: dict = {"command": f"{server_python_label()} bench/run.py {' '.join(sys.argv[1:])}", "machine": machine()}
    say(f"machine: {results['machine']}")
    for name, fn in (("drags", run_drags), ("mapview", run_mapview)):
        if name in args.only.split(","):
            fn(args, results)
    results["elapsed_s"] = round(time.time() - started, 1)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (WORK / "maps-results.json").write_text(json.dumps(results))
    analysis = BENCH / "analysis.md"
    _rest, battle_map = maps_report.split_analysis(analysis.read_text() if analysis.exists() else "")
    maps_report.splice(BENCH / "RESULTS.md", maps_report.section(results, battle_map))
    say(f"battle-map workloads done in {results['elapsed_s'] / 60:.1f} min; wrote their section of bench/RESULTS.md")
    print(json.dumps({k: results[k] for k in MAP_WORKLOADS if k in results}, indent=1))


def server_python_label() -> str:
    return os.path.relpath(server_python(), REPO) if server_python().startswith(str(REPO)) else server_python()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 steps, 2,000 idle sockets, short steps")
    parser.add_argument(
        "--only",
        default="fanout,idle,longpoll,writes,profile",
        help="comma-separated workloads (fanout,idle,longpoll,writes,profile; battle map: drags,mapview)",
    )
    parser.add_argument("--drag-sessions", type=int, default=100, help="drags: game sessions")
    parser.add_argument("--drag-players", type=int, default=12, help="drags: players (sockets) per session")
    parser.add_argument("--drag-rate", type=float, default=20, help="drags: positions/s per player")
    parser.add_argument("--drag-seconds", type=float, default=10, help="drags: seconds of dragging")
    parser.add_argument("--move-seconds", type=float, default=60, help="drags: at most this long of durable moves")
    parser.add_argument("--views", type=int, default=300, help="mapview: first views timed")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md/PNG from .work/results.json")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=None, help="seconds per step")
    parser.add_argument("--idle", type=int, default=None, help="idle WebSockets")
    args = parser.parse_args()
    bootstrap()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    raw = WORK / "results.json"
    if args.report_only:
        results = json.loads(raw.read_text())
        prof = WORK / "profile.speedscope.json"
        if prof.exists() and "error" not in results.get("profile", {"error": 1}):
            results["profile"].update(summarise_profile(prof))
    elif set(args.only.split(",")) <= set(MAP_WORKLOADS):
        run_map_only(args)
        return
    else:
        if not shutil.which("node"):
            sys.exit("node is required for the Node Socket.IO peer")
        args.rates = [50, 200, 800] if args.quick else [50, 100, 200, 400, 800, 1600, 3200, 6400]
        args.duration = args.duration or (4.0 if args.quick else 8.0)
        args.idle = args.idle or (2000 if args.quick else 10000)
        args.polls = 500 if args.quick else 1000
        args.poll_rounds = 1 if args.quick else 2
        args.write_conns = 32
        args.profile_rate = 400
        started = time.time()
        results: dict = {
            "command": " ".join(
                [
                    os.path.relpath(server_python(), REPO)
                    if server_python().startswith(str(REPO))
                    else server_python(),
                    "bench/run.py",
                    *sys.argv[1:],
                ]
            ),
            "options": {k: v for k, v in vars(args).items() if k not in ("report_only",)},
            "machine": machine(),
        }
        say(f"machine: {results['machine']}")
        only = args.only.split(",")
        for name, fn in (
            ("fanout", run_fanout),
            ("idle", run_idle),
            ("longpoll", run_longpoll),
            ("writes", run_writes),
            ("profile", run_profile),
        ):
            if name in only:
                fn(args, results)
                raw.write_text(json.dumps(results))
        results["elapsed_s"] = round(time.time() - started, 1)
        results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        raw.write_text(json.dumps(results))
        say(f"all workloads done in {results['elapsed_s'] / 60:.1f} min")
    battle_map = maps_report.kept(BENCH / "RESULTS.md")
    headline = write_report(results, BENCH / "RESULTS.md")
    analysis = BENCH / "analysis.md"
    text = (BENCH / "RESULTS.md").read_text()
    text = text.replace(
        "ANALYSIS_PLACEHOLDER", maps_report.split_analysis(analysis.read_text() if analysis.exists() else "")[0]
    )
    (BENCH / "RESULTS.md").write_text(text)
    if battle_map:  # written by a `--only drags,mapview` run: keep it
        maps_report.splice(BENCH / "RESULTS.md", battle_map)
    write_plot(results, BENCH / "latency.png")
    say("wrote bench/RESULTS.md and bench/latency.png")
    for k, v in headline:
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
