"""What every workload needs: the venvs, the servers under test as pinned processes, set-up through the
API, the load generator as a separate pinned process, and the facts about the machine.

Fairness (issue 14): every server gets the same cores, the same logging and the same work per mutation.
- Cores: the servers run on SERVER_CPUS and the load generator (and this harness, and py-spy) on GEN_CPUS,
  set with sched_setaffinity before exec so every thread a server starts stays there.
- Logging: every Python server runs under bench/serverwrap.py, which turns INFO logging off unless
  `--access-log` (then every server writes one line per request: ours its request log, the uvicorn peers
  uvicorn's access log, the Node peer a console line); it also records the garbage collector's pauses.
"""

from __future__ import annotations

import hashlib
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

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
VENV = WORK / "venv"
VENV_PY = VENV / "bin" / "python"
SERVER_VENV = WORK / "server-venv"
NODE_DIR = BENCH / "peers" / "node"
SECRET = "bench-secret-key-0123456789abcdef"
HP = 100_000_000

SERVERS = {
    "ours": "ours (Starlette/uvicorn)",
    "ours-pg": "ours on PostgreSQL",
    "pysio": "python-socketio 5 / uvicorn",
    "node": "Node Socket.IO 4",
    "legacy": "legacy 1 s DB poll",
}


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------- cores


class Pinning:
    """Which cores the servers and the load generator get (None: not pinned)."""

    server: set[int] | None = None
    gen: set[int] | None = None

    @classmethod
    def configure(cls, server: str, gen: str, enabled: bool) -> None:
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not enabled or len(cores) < 2:
            if enabled:
                say(f"only {len(cores)} core(s) available: server and load generator are not pinned")
            cls.server = cls.gen = None
            return
        cls.server = {int(c) for c in server.split(",")} if server else {cores[0]}
        cls.gen = {int(c) for c in gen.split(",")} if gen else set(cores[1:]) - cls.server or {cores[-1]}
        if cls.server & cls.gen:
            raise SystemExit(f"--server-cpus {cls.server} and --gen-cpus {cls.gen} overlap")
        os.sched_setaffinity(0, cls.gen)  # this harness, the load generator and py-spy inherit it

    @classmethod
    def describe(cls) -> str:
        if cls.server is None:
            return "not pinned (server and load generator share the cores)"
        return (
            f"server pinned to core {','.join(map(str, sorted(cls.server)))}, load generator (and harness, py-spy) "
            f"to core {','.join(map(str, sorted(cls.gen or ())))}"
        )

    @classmethod
    def server_preexec(cls):  # a callable for Popen's preexec_fn, or None
        cores = cls.server
        if cores is None:
            return None
        return lambda: os.sched_setaffinity(0, cores)


# --------------------------------------------------------------------------------------- bootstrap


def _stamp_ok(stamp: Path, content: bytes) -> bool:
    return stamp.exists() and stamp.read_bytes() == content


def _server_venv() -> str:
    """bench/.work/server-venv with `pip install -e` of this repository (re-made when pyproject.toml changes)."""
    py = SERVER_VENV / "bin" / "python"
    key = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + str(REPO).encode()).hexdigest().encode()
    stamp = SERVER_VENV / "pyproject.stamp"
    if not _stamp_ok(stamp, key):
        say(f"creating the server's venv {SERVER_VENV} (pip install -e {REPO})")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(SERVER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-e", str(REPO)], check=True)
        stamp.write_bytes(key)
    return str(py)


def node_modules() -> None:
    """`npm ci` for the Node peer. Its better-sqlite3 compiles from source here (minutes), so the result is
    kept per package-lock.json in BENCH_CACHE (default ~/.cache/vtt-bench) and copied into later clones."""
    lock = hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("BENCH_CACHE") or Path.home() / ".cache" / "vtt-bench") / f"node_modules-{lock}"
    target = NODE_DIR / "node_modules"
    if cache.is_dir():
        say(f"node_modules for bench/peers/node from {cache}")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(cache, target, symlinks=True)
        return
    say("npm ci in bench/peers/node (socket.io 4, better-sqlite3 12; compiling better-sqlite3 takes minutes)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    try:
        partial = cache.with_name(cache.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(target, partial, symlinks=True)
        partial.rename(cache)
    except OSError as exc:
        say(f"could not keep node_modules in {cache}: {exc}")


def bootstrap(needs_node: bool) -> None:
    """Create the bench venv, the server's venv (unless SERVER_PYTHON names one) and the Node peer's
    node_modules, then re-exec this command in the bench venv."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    WORK.mkdir(exist_ok=True)
    if not os.environ.get("SERVER_PYTHON"):
        os.environ["SERVER_PYTHON"] = _server_venv()
    req = (BENCH / "requirements.txt").read_bytes()
    stamp = VENV / "requirements.stamp"
    if not _stamp_ok(stamp, req):
        say(f"creating the bench venv {VENV} from bench/requirements.txt")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")], check=True)
        stamp.write_bytes(req)
    if needs_node and not all((NODE_DIR / "node_modules" / m).exists() for m in ("socket.io", "better-sqlite3")):
        node_modules()
    os.execv(str(VENV_PY), [str(VENV_PY), str(BENCH / "run.py"), *sys.argv[1:]])


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def server_python() -> str:
    return os.environ.get("SERVER_PYTHON") or sys.executable


def server_python_label() -> str:
    py = server_python()
    return os.path.relpath(py, REPO) if py.startswith(str(REPO)) else py


# ----------------------------------------------------------------------------------------- servers


class Logging:
    """`--access-log`: every server logs each request; by default none does (INFO off everywhere)."""

    access_log = False

    @classmethod
    def env(cls) -> dict[str, str]:
        return {"BENCH_ACCESS_LOG": "1" if cls.access_log else "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server under test, as its own process pinned to the server cores."""

    def __init__(self, name: str, argv: list[str], env: dict | None = None, python: bool = True) -> None:
        self.name = name
        self.port = free_port()
        self.gc_file = WORK / "gc" / f"{name}.json"
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        if python:  # argv[0] is the interpreter: run the rest under serverwrap.py
            argv = [argv[0], str(BENCH / "serverwrap.py"), str(self.gc_file), *argv[1:]]
        self.argv = argv
        self.env = {**os.environ, **Logging.env(), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = WORK / "logs" / f"{name}.log"

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.gc_file.parent.mkdir(parents=True, exist_ok=True)
        self.gc_file.unlink(missing_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=Pinning.server_preexec(),
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
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def gc_pauses(self) -> list[list[float]] | None:
        """[[end (epoch s), wall s, generation, CPU s], ...] as serverwrap.py wrote them (None: not recorded)."""
        try:
            return json.loads(self.gc_file.read_text())["pauses"]
        except (OSError, ValueError, KeyError):
            return None


def gc_summary(pauses: list[list[float]] | None, window: tuple[float, float] | None = None) -> dict | None:
    """The longest collector pause (wall ms, and the CPU ms of that pass) and the number of full passes, of
    the whole run or of a window."""
    if pauses is None:
        return None
    if window is not None:
        t0, t1 = window
        pauses = [p for p in pauses if p[0] >= t0 and p[0] - p[1] <= t1]
    longest = max(pauses, key=lambda p: p[1], default=None)
    return {
        "max_ms": round(longest[1] * 1000, 2) if longest else 0.0,
        "max_cpu_ms": round(longest[3] * 1000, 2) if longest and len(longest) > 3 else None,
        "max_pass_cpu_ms": round(max((p[3] for p in pauses if len(p) > 3), default=0.0) * 1000, 2),
        "max_generation": int(longest[2]) if longest else None,
        "full_passes": sum(1 for p in pauses if p[2] == 2),
        "recorded": len(pauses),
    }


def fresh_db(name: str) -> Path:
    path = WORK / "db" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def pg_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(pg_admin_url())
        for statement in sql.split(";"):
            if statement.strip():
                await conn.execute(statement)
        await conn.close()

    asyncio.run(run())


def ours(name: str, database_url: str | None = None) -> tuple[Server, str]:
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
        "ACCESS_LOG": "true" if Logging.access_log else "false",  # servers before ACCESS_LOG: serverwrap.py
    }
    argv = [server_python(), "-m", "server", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return Server(name, argv, env), url


def setup_ours(server: Server, sessions: int) -> dict:
    """Register a DM, create S game sessions with one fighter each, through the API."""
    from maps import FIGHTER, Api  # here, not at the top: maps needs the bench venv, which bootstrap() makes

    api = Api(server.port).register("bench_dm")
    pairs = []
    for i in range(sessions):
        sid = api.call(
            "POST",
            "/api/session/create.php",
            {"session_title": f"Bench {i}", "session_datetime": "2099-01-01 20:00:00"},
        )["session_id"]
        character = {**FIGHTER, "character_name": f"Fighter {i}", "session_id": sid}
        pairs.append((sid, api.call("POST", "/api/character/create.php", character)["character_id"]))
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


def start_ours(name: str, sessions: int, database_url: str | None = None) -> tuple[Server, dict]:
    server, url = ours(name, database_url)
    server.start()
    setup = setup_ours(server, sessions)
    raise_hp(url)
    return server, {**setup, "flavour": "ours", "port": server.port}


def start_peer(kind: str, name: str, sessions: int) -> tuple[Server, dict]:
    sys.path.insert(0, str(BENCH / "peers"))
    import schema

    db = fresh_db(name)
    seeded = schema.seed(str(db), sessions)
    if kind == "pysio":
        server = Server(name, [sys.executable, str(BENCH / "peers" / "pysio_server.py"), "{port}", str(db)])
    elif kind == "node":
        server = Server(name, ["node", str(NODE_DIR / "server.js"), "{port}", str(db)], python=False)
    else:
        server = Server(name, [sys.executable, str(BENCH / "peers" / "legacy_server.py"), "{port}", str(db)])
    server.start()
    return server, {
        "cookie": seeded["token"],
        "csrf": "",
        "sessions": seeded["sessions"],
        "flavour": "sio" if kind in ("pysio", "node") else "legacy",
        "port": server.port,
    }


PG_DB = "bench_vtt"


def start(kind: str, name: str, sessions: int) -> tuple[Server, dict]:
    """A fresh server of `kind` (SERVERS) with S game sessions of one character each."""
    if kind == "ours":
        return start_ours(name, sessions)
    if kind == "ours-pg":
        postgres_admin(f"DROP DATABASE IF EXISTS {PG_DB}; CREATE DATABASE {PG_DB}")
        return start_ours(name, sessions, pg_admin_url().rsplit("/", 1)[0] + f"/{PG_DB}")
    return start_peer(kind, name, sessions)


def stop(kind: str, server: Server) -> None:
    server.stop()
    if kind == "ours-pg":
        try:
            postgres_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
        except Exception as exc:
            say(f"could not drop {PG_DB}: {exc}")


# ---------------------------------------------------------------------------------- load generator


def _paths(label: str, cfg: dict) -> tuple[Path, Path]:
    path, out = WORK / "cfg" / f"{label}.json", WORK / "raw" / f"{label}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg))
    return path, out


def loadgen_async(cfg: dict, label: str, script: str = "loadgen.py") -> subprocess.Popen:
    """The load generator (or bench/maps.py) as its own process; it inherits the generator cores."""
    path, out = _paths(label, cfg)
    return subprocess.Popen([sys.executable, str(BENCH / script), str(path), str(out)])


def loadgen(cfg: dict, label: str, script: str = "loadgen.py", timeout: float = 900) -> dict:
    path, out = _paths(label, cfg)
    subprocess.run([sys.executable, str(BENCH / script), str(path), str(out)], check=True, timeout=timeout)
    return json.loads(out.read_text())


# ----------------------------------------------------------------------------------------- machine


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

    from importlib.metadata import version as pyver

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "pinning": Pinning.describe(),
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": osname,
        "python_server": version([server_python(), "-c", "import sys; print(sys.version.split()[0])"]),
        "python_bench": platform.python_version(),
        "node": version(["node", "--version"]),
        "versions": f"socket.io {node_package('socket.io')}, better-sqlite3 {node_package('better-sqlite3')}, "
        f"python-socketio {pyver('python-socketio')}, uvicorn (peer) {pyver('uvicorn')}, "
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
        "access_log": Logging.access_log,
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
