"""Battle-map workloads of issue 10, run by bench/run.py as a separate process: `maps.py CONFIG OUT`.

drags:   S game sessions of U players each (one socket per player, every player owns a token on the
         session's active, fully revealed map). Phase 1: every player sends the ephemeral `drag` frame
         of their token at RATE positions a second for DURATION seconds; every other socket of the
         session records how old each position is when it arrives (x_position carries a sequence
         number, so each receipt is matched to its send time). Phase 2, same sockets, same server:
         the same number of positions as durable moves (PUT /api/session/maps/tokens/move.php, each
         player moving their own token), as fast as MOVE_CONNS keep-alive connections allow, capped by
         MOVE_SECONDS. Reported: server CPU seconds per position in each phase, and their ratio.
mapview: one game session with a map of TOKENS tokens and FOG revealed fog cells; a player's first full
         view (GET snapshot.php, then maps/get.php of the active map) timed back to back on one
         keep-alive connection, beside GET /api/auth/verify.php on the same connection.

Set-up goes through the real API (register, invite, accept, character, upload, grid, reveal, tokens);
only the measured phases are timed. Times are client round trips on 127.0.0.1 (the closest we get to
server time without instrumenting the server).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import struct
import sys
import time
import zlib
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import HttpConn, Meter, WSClient, http_conn, http_request

perf = time.perf_counter
PASSWORD = "correct horse battery staple"


def png(width: int, height: int) -> bytes:
    """A plain green PNG (no Pillow in the bench venv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((90, 120, 80)) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


class Api:
    """Synchronous set-up client: one login, JSON bodies, answers' `data`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.csrf = ""
        self.user_id = 0
        self.username = ""

    def call(self, method: str, path: str, body: dict | None = None, raw: bytes = b"", ctype: str = "") -> dict:
        headers = {"Content-Type": ctype or "application/json"}
        if self.cookie:
            headers["Cookie"] = f"sessionToken={self.cookie}"
            headers["X-CSRF-Token"] = self.csrf
        payload = raw or (json.dumps(body) if body is not None else None)
        try:
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the idle keep-alive connection (set-up pauses while others register).
            self.conn.close()
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{method} {path} -> {response.status}: {data}")
        match = re.search(r"sessionToken=([^;]+)", response.getheader("set-cookie") or "")
        if match:
            self.cookie = match.group(1)
        return data["data"]

    def register(self, name: str) -> Api:
        user = self.call(
            "POST", "/api/auth/register.php", {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        )
        self.csrf = user["csrf_token"]
        self.user_id = user.get("user_id") or user.get("user", {}).get("user_id", 0)
        self.username = name
        return self

    def upload(self, session_id: int, image: bytes) -> dict:
        boundary = "benchboundary7d9a"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n{session_id}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="map_name"\r\n\r\nCellar\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="map.png"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + image
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        return self.call(
            "POST",
            "/api/session/maps/upload.php",
            raw=b"".join(parts),
            ctype=f"multipart/form-data; boundary={boundary}",
        )


FIGHTER = {  # every benchmark's character (bench/run.py's set-up too)
    "class": "fighter",
    "alignment": "lawful",
    "strength": 13,
    "dexterity": 12,
    "constitution": 12,
    "intelligence": 10,
    "wisdom": 11,
    "charisma": 10,
}


def table(port: int, sessions: int, players: int, width: int, height: int, grid: int, fog: int) -> dict:
    """A DM, `players` players seated in every one of `sessions` game sessions, each session with one
    active map (grid `grid`, the first `fog` cells revealed) and one token per player's character."""
    dm = Api(port).register("bench_dm")
    seated = [Api(port).register(f"bench_p{i}") for i in range(players)]
    cols = width // grid
    cells = [[i % cols, i // cols] for i in range(fog)]
    image = png(width, height)
    out = []
    for s in range(sessions):
        sid = dm.call(
            "POST",
            "/api/session/create.php",
            {"session_title": f"Map {s}", "session_datetime": "2099-01-01 20:00:00", "max_players": players},
        )["session_id"]
        cellar = dm.upload(sid, image)
        dm.call(
            "PUT", "/api/session/maps/update.php", {"map_id": cellar["map_id"], "grid_size": grid, "is_active": True}
        )
        for start in range(0, len(cells), 5000):
            dm.call(
                "POST",
                "/api/session/maps/fog/reveal.php",
                {"map_id": cellar["map_id"], "cells": cells[start : start + 5000]},
            )
        tokens = []
        for n, player in enumerate(seated):
            dm.call("POST", "/api/session/invite-player.php", {"session_id": sid, "username": player.username})
            player.call("POST", "/api/session/accept-invitation.php", {"session_id": sid})
            cid = player.call(
                "POST", "/api/character/create.php", {**FIGHTER, "character_name": f"P{n}", "session_id": sid}
            )["character_id"]
            body = {"map_id": cellar["map_id"], "character_id": cid, "x_position": 10 + grid * n, "y_position": 10}
            tokens.append(dm.call("POST", "/api/session/maps/tokens/add.php", body)["token_id"])
        out.append({"session_id": sid, "map_id": cellar["map_id"], "tokens": tokens})
    return {"dm": dm, "players": seated, "sessions": out}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def ms(values: list[float]) -> dict:
    return {k: round(pct(values, q) * 1000, 2) for k, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))}


# ---------------------------------------------------------------------------------------------- drags


class Dragger(WSClient):
    """One player's socket: sends its token's drags; if `sampled`, records the age of others' positions on
    arrival. Every socket reads and frames everything it is sent, but only the sampled ones parse the
    ephemeral frames: at 100 sessions the server sends 264,000 of them a second, and parsing each one in
    this single Python process would saturate the generator before the server (bench/analysis.md)."""

    sent: dict[tuple[int, int], float]  # (token_id, sequence) -> send time; shared by all
    ages: list[float]
    durable_seen = 0
    ephemeral_seen = 0
    sampled = True

    def data_received(self, data: bytes) -> None:
        if self.sampled or not self.upgraded:
            super().data_received(data)
            return
        # Not sampled: walk the frames by their headers, count the ephemeral ones (server frames are
        # unmasked; an ephemeral one's payload starts '{"type":"ep'), hand any other frame to the full path.
        buf = self.buf
        buf += data
        pos, n = 0, len(buf)
        other = False
        while n - pos >= 4:
            length = buf[pos + 1] & 0x7F
            off = pos + 2
            if length == 126:
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                off = pos + 4
            elif length == 127:
                other = True  # never a drag
                break
            if n - off < length:
                break  # the rest comes with the next read
            if length > 10 and buf[pos] == 0x81 and buf[off + 9] == 0x65 and buf[off + 10] == 0x70:  # "ep..."
                self.ephemeral_seen += 1
                pos = off + length
                continue
            other = True
            break
        if pos:
            del buf[:pos]
        if other:
            data, self.buf = bytes(buf), bytearray()
            super().data_received(data)

    def on_text(self, payload: bytes, t: float) -> None:
        if payload.startswith(b'{"type":"ephemeral"'):
            self.ephemeral_seen += 1
            data = orjson.loads(payload)["event_data"]
            if data.get("token_id") != self.token_id:
                sent = self.sent.get((data["token_id"], int(data["x_position"])))
                if sent is not None:
                    self.ages.append(t - sent)
        elif payload.startswith(b'{"type":"event"'):
            self.durable_seen += 1
        elif payload.startswith(b'{"type":"hello"') and not self.ready.done():
            self.ready.set_result(None)
        elif payload.startswith(b'{"type":"error"'):
            self.errors += 1
            if not self.ready.done():
                self.ready.set_exception(ConnectionError(payload.decode()))
            elif self.errors <= 2:
                print(f"  [maps] error frame: {payload[:200]!r}", file=sys.stderr, flush=True)


async def connect(port: int, player: Api, session: dict, token_id: int, shared: dict, sampled: bool) -> Dragger:
    loop = asyncio.get_running_loop()
    path = f"/api/realtime/ws?session_id={session['session_id']}"
    _, client = await loop.create_connection(
        lambda: Dragger("ours", path, port, player.cookie, session["session_id"], {}), "127.0.0.1", port
    )
    client.token_id = token_id  # type: ignore[attr-defined]
    client.sent, client.ages = shared["sent"], shared["ages"]  # type: ignore[attr-defined]
    client.durable_seen = 0  # type: ignore[attr-defined]
    client.ephemeral_seen = 0  # type: ignore[attr-defined]
    client.sampled = sampled  # type: ignore[attr-defined]
    client.errors = 0  # type: ignore[attr-defined]
    await asyncio.wait_for(client.ready, 60)
    return client  # type: ignore[return-value]


async def quiet(count, still: float = 1.0, cap: float = 120.0) -> float:
    """Wait until `count()` has not grown for `still` seconds (the server has sent what it had); the
    seconds waited."""
    t0 = perf()
    last, since = count(), perf()
    while perf() - since < still and perf() - t0 < cap:
        await asyncio.sleep(0.1)
        now = count()
        if now != last:
            last, since = now, perf()
    return perf() - t0


async def drags(cfg: dict) -> dict:
    port = cfg["port"]
    t0 = perf()
    world = table(port, cfg["sessions"], cfg["players"], 1000, 500, 50, 200)
    setup_s = perf() - t0
    shared: dict = {"sent": {}, "ages": []}
    gate = asyncio.Semaphore(50)

    every = cfg.get("sample_every", 4)  # of a session's players, every `every`-th records ages

    async def one(player: Api, session: dict, token_id: int, sampled: bool) -> Dragger:
        async with gate:
            return await connect(port, player, session, token_id, shared, sampled)

    clients = await asyncio.gather(
        *(
            one(player, session, session["tokens"][n], n % every == 0)
            for session in world["sessions"]
            for n, player in enumerate(world["players"])
        )
    )
    meter = Meter(cfg["server_pid"])
    rate, duration = cfg["rate"], cfg["duration"]
    # Phase 0: every client's first drag, all at the same instant, timed apart (drag_first_age_ms). The
    # server checks once per connection and token that the player may drag it (a database read); what is
    # measured below is dragging, with every connection past its first drag, as at a table in play.
    first: list[float] = []
    for client in clients:
        client.ages = first  # type: ignore[attr-defined]
        client.sent[(client.token_id, 0)] = perf()  # type: ignore[attr-defined]
        client.send_text(b'{"type":"drag","token_id":%d,"x_position":0,"y_position":1}' % client.token_id)  # type: ignore[attr-defined]
    # 2.5 s without a frame before the measured phase: the server's collector freezes what the connections
    # and their first drags left once it has been quiet for a second (server/collector.py, checked every
    # second), as at a table whose drags do not all begin in the same second as its connections.
    first_s = await quiet(lambda: sum(c.ephemeral_seen for c in clients), still=2.5)  # type: ignore[attr-defined]
    for client in clients:
        client.ages = shared["ages"]  # type: ignore[attr-defined]
        client.ephemeral_seen = 0  # type: ignore[attr-defined]
    # Phase 1: drags. Every client on its own 1/rate tick, phases spread so sends do not bunch.
    seq = 0
    meter.start()
    start = perf()
    ticks = int(duration * rate)
    late = 0
    yielded = perf()
    for tick in range(ticks):
        due = start + tick / rate
        for k, client in enumerate(clients):
            at = due + (k / len(clients)) / rate
            now = perf()
            wait = at - now
            if wait > 0.0005:
                await asyncio.sleep(wait)
                yielded = perf()
            else:
                if wait < -0.05:
                    late += 1
                if now - yielded > 0.002:
                    # Behind or on time without a pause: let the sockets be read at least every 2 ms, or the
                    # frames wait in the kernel and their ages count this loop's lag, not the server's.
                    await asyncio.sleep(0)
                    yielded = perf()
            x = tick + 1
            client.sent[(client.token_id, x)] = perf()  # type: ignore[attr-defined]
            client.send_text(b'{"type":"drag","token_id":%d,"x_position":%d,"y_position":1}' % (client.token_id, x))  # type: ignore[attr-defined]
            seq += 1
    # A saturated server is still sending: count its work until every socket has had it all.
    drain = await quiet(lambda: sum(c.ephemeral_seen for c in clients))  # type: ignore[attr-defined]
    drag = meter.stop()
    drag_positions = seq
    ages = list(shared["ages"])
    # Phase 2: the same number of positions as durable moves, capped in time (a note says so).
    conns = [await http_conn(port) for _ in range(cfg["move_conns"])]
    pairs = [(world["players"][n], token) for session in world["sessions"] for n, token in enumerate(session["tokens"])]
    done = 0
    errors = 0
    latencies: list[float] = []
    deadline = perf() + cfg["move_seconds"]

    async def mover(conn: HttpConn, offset: int) -> None:
        nonlocal done, errors
        i = offset
        while done < drag_positions and perf() < deadline:
            player, token = pairs[i % len(pairs)]
            body = b'{"token_id":%d,"x_position":%d,"y_position":2}' % (token, 10 + i % 900)
            t = perf()
            status, _h, answer, t1 = await conn.request(
                http_request("PUT", "/api/session/maps/tokens/move.php", port, player.cookie, player.csrf, body)
            )
            if status == 200:
                done += 1
                latencies.append(t1 - t)
            else:
                errors += 1
                if errors <= 2:
                    print(f"  [maps] move -> {status}: {answer[:200]!r}", file=sys.stderr, flush=True)
            i += len(conns)

    for c in clients:
        c.durable_seen = 0  # type: ignore[attr-defined]  # the replay after hello is not a move
    meter.start()
    await asyncio.gather(*(mover(conn, k) for k, conn in enumerate(conns)))
    await quiet(lambda: sum(c.durable_seen for c in clients))  # type: ignore[attr-defined]
    moved = meter.stop()
    durable_seen = sum(c.durable_seen for c in clients)  # type: ignore[attr-defined]
    for c in clients:
        c.close()
    drag_cpu = drag["server_cpu_s"]
    move_cpu = moved["server_cpu_s"]
    per_drag = drag_cpu / max(drag_positions, 1)
    per_move = move_cpu / max(done, 1)
    return {
        "sessions": cfg["sessions"],
        "players": cfg["players"],
        "sockets": len(clients),
        "setup_s": round(setup_s, 1),
        "rate": rate,
        "duration": duration,
        "late_sends": late,
        "drag_positions": drag_positions,
        "drag_frames_received": sum(c.ephemeral_seen for c in clients),  # type: ignore[attr-defined]
        "drag_receipts": len(ages),  # matched to their send time, at the sampled sockets
        "drag_sampled_sockets": sum(c.sampled for c in clients),  # type: ignore[attr-defined]
        "drag_age_ms": ms(ages),
        "drag_first_age_ms": ms(first),  # phase 0: the first drag of every connection at once
        "drag_first_receipts": len(first),
        "drag_first_s": round(first_s, 2),
        "drag_server_cpu_s": round(drag_cpu, 2),
        "drag_wall_s": round(drag["wall_s"], 2),
        "drag_drain_s": round(drain, 2),
        "drag_gen_cpu_pct": drag["gen_cpu_pct"],
        "drag_server_cpu_pct": drag["server_cpu_pct"],
        "moves": done,
        "move_errors": errors,
        "move_wall_s": round(moved["wall_s"], 2),
        "move_rest_ms": ms(latencies),
        "move_server_cpu_s": round(move_cpu, 2),
        "move_events_received": durable_seen,
        "cpu_ms_per_drag_position": round(per_drag * 1000, 4),
        "cpu_ms_per_durable_move": round(per_move * 1000, 4),
        "drag_to_move_cpu_ratio": round(per_drag / per_move, 4) if per_move else None,
    }


# --------------------------------------------------------------------------------------------- mapview


async def mapview(cfg: dict) -> dict:
    port = cfg["port"]
    # 2,000 x 1,000 px in 20 px squares: 100 x 50 = 5,000 cells, all revealed.
    world = table(port, 1, 1, 2000, 1000, 20, cfg["fog"])
    dm, player = world["dm"], world["players"][0]
    session = world["sessions"][0]
    for n in range(cfg["tokens"] - 1):  # the player's character token is the first
        body = {
            "map_id": session["map_id"],
            "label": f"T{n}",
            "x_position": 5 + (n * 37) % 1990,
            "y_position": 5 + (n * 53) % 990,
        }
        dm.call("POST", "/api/session/maps/tokens/add.php", body)
    conn = await http_conn(port)
    sid, mid = session["session_id"], session["map_id"]
    paths = {
        "snapshot": f"/api/session/snapshot.php?session_id={sid}",
        "map": f"/api/session/maps/get.php?map_id={mid}",
        "verify": "/api/auth/verify.php",
    }
    sizes: dict[str, int] = {}
    seen: dict[str, int] = {}
    for name, path in paths.items():  # check the view is what we think it is
        status, _h, body, _t = await conn.request(http_request("GET", path, port, player.cookie, ""))
        if status != 200:
            raise RuntimeError(f"{path} -> {status}: {body[:300]!r}")
        sizes[name] = len(body)
        data = orjson.loads(body)["data"]
        scene = data.get("map") if name == "snapshot" else data
        if isinstance(scene, dict):
            seen[name] = len(scene.get("tokens", []))
    times: dict[str, list[float]] = {name: [] for name in (*paths, "join")}
    meter = Meter(cfg["server_pid"])
    meter.start()
    for _ in range(cfg["views"]):
        join = 0.0
        for name, path in paths.items():
            t = perf()
            status, _h, body, t1 = await conn.request(http_request("GET", path, port, player.cookie, ""))
            assert status == 200, body[:200]
            times[name].append(t1 - t)
            if name != "verify":
                join += t1 - t
        times["join"].append(join)
    usage = meter.stop()
    return {
        "tokens": cfg["tokens"],
        "fog": cfg["fog"],
        "views": cfg["views"],
        "bytes": sizes,
        "tokens_in_answer": seen,
        "ms": {name: ms(values) for name, values in times.items()},
        "server_cpu_s": round(usage["server_cpu_s"], 2),
    }


def main() -> None:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(drags(cfg) if cfg["workload"] == "drags" else mapview(cfg))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
