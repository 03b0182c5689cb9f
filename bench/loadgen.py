"""The load generator: one process, asyncio on uvloop, with its own minimal HTTP/1.1 and WebSocket clients
written directly on asyncio.Protocol (no task per connection, one timestamp per read, orjson), so that it
stays well below one core while the server under test saturates its own. It reports its own CPU.

Usage: python loadgen.py CONFIG.json OUT.json   (run.py writes the config; see the workload functions)

Wire flavours:
  ours   - GET /api/realtime/ws?session_id=N -> {"type":"hello","head_event_id"} then {"type":"event",...}
  sio    - Socket.IO 4 over a raw WebSocket: /socket.io/?EIO=4&transport=websocket&session_id=N;
           open "0{...}", we send "40", ack "40{...}", events '42["event",{...}]', ping "2" -> pong "3"
  legacy - long-poll only
Every server sends the same envelope {event_id, event_type, event_data{character_id, current_hp, ...}}
with event ids consecutive per game session, so lost and duplicated events are counted from the ids.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import sys
import time
from collections import deque
from typing import Any

import orjson
import psutil

perf = time.perf_counter
HOST = "127.0.0.1"


# --------------------------------------------------------------------------------------------- HTTP


class HttpConn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time; answers through a callback."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.cb: Any = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.cb is not None:
            cb, self.cb = self.cb, None
            cb(0, b"", b"", perf())

    def send(self, data: bytes, cb: Any) -> None:
        self.cb = cb
        assert self.transport is not None
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        t = perf()
        self.buf += data
        while self.cb is not None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            i = head.find(b"content-length:")
            if i < 0:
                raise RuntimeError(f"response without content-length: {head[:200]!r}")
            j = head.find(b"\r\n", i)
            length = int(head[i + 15 : j if j > 0 else None])
            total = end + 4 + length
            if len(self.buf) < total:
                return
            status = int(head[9:12])
            body = bytes(self.buf[end + 4 : total])
            del self.buf[:total]
            cb, self.cb = self.cb, None
            cb(status, head, body, t)

    async def request(self, data: bytes) -> tuple[int, bytes, bytes, float]:
        fut = asyncio.get_running_loop().create_future()
        self.send(data, lambda *a: fut.done() or fut.set_result(a))
        return await fut


async def http_conn(port: int) -> HttpConn:
    _, proto = await asyncio.get_running_loop().create_connection(HttpConn, HOST, port)
    return proto  # type: ignore[return-value]


def http_request(method: str, path: str, port: int, cookie: str, csrf: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Cookie: sessionToken={cookie}"]
    if csrf:
        lines.append(f"X-CSRF-Token: {csrf}")
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# ---------------------------------------------------------------------------------------- WebSocket


class Step:
    """What the clients record during one measured step."""

    def __init__(self) -> None:
        self.receipts: list[tuple[float, int, int]] = []  # (receive time, character_id, current_hp)


class WSClient(asyncio.Protocol):
    def __init__(self, flavour: str, path: str, port: int, cookie: str, session_id: int, rec: dict) -> None:
        self.flavour = flavour
        self.path = path
        self.port = port
        self.cookie = cookie
        self.session_id = session_id
        self.rec = rec  # shared: {"step": Step}
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last = 0
        self.head0 = 0  # ours: events up to the hello's head are the replay of the log, not live events
        self.replayed = 0
        self.received = 0
        self.lost = 0
        self.dups = 0
        self.fragments: list[bytes] | None = None
        self.closed = False

    # -- transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(  # type: ignore[attr-defined]
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Cookie: sessionToken={self.cookie}\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))

    def send_text(self, text: bytes) -> None:
        # Client frames must be masked; a zero mask key leaves the payload as it is.
        assert self.transport is not None and len(text) < 126
        self.transport.write(bytes((0x81, 0x80 | len(text))) + b"\0\0\0\0" + text)

    def data_received(self, data: bytes) -> None:
        t = perf()
        buf = self.buf
        buf += data
        pos = 0
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(bytes(buf[:200]).decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.upgraded = True
            pos = end + 4
        n = len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            off = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                off = pos + 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                off = pos + 10
            if n - off < length:
                break
            payload = bytes(buf[off : off + length])
            pos = off + length
            opcode = b0 & 0x0F
            if opcode == 0x1 or opcode == 0x0:
                if not b0 & 0x80:  # fragmented
                    self.fragments = (self.fragments or []) + [payload]
                    continue
                if self.fragments is not None:
                    payload = b"".join(self.fragments) + payload
                    self.fragments = None
                self.on_text(payload, t)
            elif opcode == 0x8:
                self.closed = True
                self.transport.close()  # type: ignore[union-attr]
                break
            elif opcode == 0x9:
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)  # type: ignore
        del buf[:pos]

    # -- protocol

    def on_text(self, payload: bytes, t: float) -> None:
        if self.flavour == "ours":
            if payload.startswith(b'{"type":"event"'):
                self.on_event(orjson.loads(payload), t)
            elif payload.startswith(b'{"type":"hello"'):
                self.last = self.head0 = orjson.loads(payload)["head_event_id"]
                if not self.ready.done():
                    self.ready.set_result(None)
            elif payload.startswith(b'{"type":"error"') and not self.ready.done():
                self.ready.set_exception(ConnectionError(payload.decode()))
        else:
            if payload.startswith(b"42"):
                self.on_event(orjson.loads(payload[2:])[1], t)
            elif payload == b"2":
                self.send_text(b"3")
            elif payload.startswith(b"40"):
                if not self.ready.done():
                    self.ready.set_result(None)
            elif payload.startswith(b"0"):
                self.send_text(b"40")
            elif payload.startswith(b"44") and not self.ready.done():
                self.ready.set_exception(ConnectionError(payload.decode()))

    def on_event(self, message: dict, t: float) -> None:
        event_id = message["event_id"]
        if event_id <= self.head0:
            self.replayed += 1
            return
        if event_id <= self.last:
            self.dups += 1
            return
        if event_id != self.last + 1:
            self.lost += event_id - self.last - 1
        self.last = event_id
        self.received += 1
        data = message["event_data"]
        self.rec["step"].receipts.append((t, data["character_id"], data["current_hp"]))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()


def ws_path(flavour: str, session_id: int) -> str:
    if flavour == "ours":
        return f"/api/realtime/ws?session_id={session_id}"
    return f"/socket.io/?EIO=4&transport=websocket&session_id={session_id}"


async def open_sockets(cfg: dict, per_session: list[int], rec: dict, concurrency: int = 100) -> tuple[list, int]:
    """Open the given number of sockets per session (index-aligned with cfg['sessions']). A socket not
    ready in 30 s is closed and tried again (3 tries); none is started after cfg['connect_seconds'] (a
    server that cannot keep up with its idle sockets would otherwise keep the run going for ever)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    failures = 0
    errors: list[str] = []
    deadline = perf() + cfg.get("connect_seconds", 600)

    async def one(sid: int) -> WSClient | None:
        nonlocal failures
        async with gate:
            for attempt in range(3):
                if perf() > deadline:
                    break
                client: WSClient | None = None
                try:
                    _, client = await loop.create_connection(  # type: ignore[assignment]
                        lambda: WSClient(
                            cfg["flavour"], ws_path(cfg["flavour"], sid), cfg["port"], cfg["cookie"], sid, rec
                        ),
                        HOST,
                        cfg["port"],
                    )
                    await asyncio.wait_for(client.ready, 30)  # type: ignore[union-attr]
                    return client
                except Exception as exc:
                    if client is not None:
                        client.close()  # not left open on the server beside its retry
                    if len(errors) < 5:
                        errors.append(repr(exc)[:200])
                    await asyncio.sleep(0.2 * (attempt + 1))
            failures += 1
            return None

    jobs = [one(sid) for (sid, _), count in zip(cfg["sessions"], per_session, strict=True) for _ in range(count)]
    clients = [c for c in await asyncio.gather(*jobs) if c is not None]
    if errors:
        print(f"  [loadgen] connect errors (first {len(errors)}): {errors}", file=sys.stderr, flush=True)
    return clients, failures


# ------------------------------------------------------------------------------------------ mutations


class Mutator:
    """Sends update-hp (damage 1) over a pool of keep-alive connections; queues when all are busy."""

    def __init__(self, cfg: dict, conns: list[HttpConn]) -> None:
        self.cfg = cfg
        self.free: deque[HttpConn] = deque(conns)
        self.backlog: deque[tuple[int, int]] = deque()
        self.inflight = 0
        self.head = http_request("POST", "/api/character/update-hp.php", cfg["port"], cfg["cookie"], cfg["csrf"])
        self.reset()
        self.closed_loop: list[tuple[int, int]] | None = None

    def reset(self) -> None:
        self.sent: dict[tuple[int, int], float] = {}  # (character_id, resulting hp) -> send time
        self.ok: dict[int, int] = {}  # session -> successful mutations
        self.errors = 0
        self.rest_latencies: list[float] = []
        self.timeline: list[tuple[float, float]] = []  # (send time, REST latency), for diagnosis
        self.last_done = 0.0
        self.done = 0

    def request(self, character_id: int) -> bytes:
        body = b'{"character_id":%d,"damage":1}' % character_id
        return self.head.replace(b"Content-Length: 0", b"Content-Length: %d" % len(body)) + body

    def submit(self, session_id: int, character_id: int) -> None:
        if self.free:
            self._send(self.free.popleft(), session_id, character_id)
        else:
            self.backlog.append((session_id, character_id))

    def _send(self, conn: HttpConn, session_id: int, character_id: int) -> None:
        self.inflight += 1
        t0 = perf()

        def done(status: int, head: bytes, body: bytes, t1: float) -> None:
            self.inflight -= 1
            self.done += 1
            self.last_done = t1
            if status == 200:
                hp = orjson.loads(body)["data"]["current_hp"]
                self.sent[(character_id, hp)] = t0
                self.ok[session_id] = self.ok.get(session_id, 0) + 1
                self.rest_latencies.append(t1 - t0)
                self.timeline.append((t0, t1 - t0))
            else:
                self.errors += 1
                if self.errors <= 3:
                    print(f"  [loadgen] update-hp answered {status}: {body[:200]!r}", file=sys.stderr, flush=True)
            if conn.closed:
                return
            if self.closed_loop is not None:
                self._send(conn, *random.choice(self.closed_loop))
            elif self.backlog:
                self._send(conn, *self.backlog.popleft())
            else:
                self.free.append(conn)

        conn.send(self.request(character_id), done)

    async def refresh(self) -> None:
        """Replace idle connections the server closed (keep-alive timeout) before a new burst."""
        fresh: deque[HttpConn] = deque()
        for conn in self.free:
            fresh.append(conn if not conn.closed else await http_conn(self.cfg["port"]))
        self.free = fresh

    async def idle(self, timeout: float) -> None:
        deadline = perf() + timeout
        while self.inflight and perf() < deadline:
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------------------- measuring


class Meter:
    """CPU of the server (psutil on its pid) and of this process, and the server's peak RSS."""

    def __init__(self, pid: int) -> None:
        self.server = psutil.Process(pid)
        self.me = psutil.Process()
        self.peak_rss = 0
        self._task: asyncio.Task | None = None

    def rss(self) -> int:
        return self.server.memory_info().rss

    def _cpu(self, p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def start(self) -> None:
        self.t = perf()
        self.s0 = self._cpu(self.server)
        self.m0 = self._cpu(self.me)
        self.peak_rss = self.rss()
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.peak_rss = max(self.peak_rss, self.rss())

    def stop(self) -> dict:
        if self._task:
            self._task.cancel()
        wall = perf() - self.t
        server_cpu = self._cpu(self.server) - self.s0
        return {
            "wall_s": wall,
            "server_cpu_s": server_cpu,
            "server_cpu_pct": round(100 * server_cpu / wall, 1),
            "gen_cpu_pct": round(100 * (self._cpu(self.me) - self.m0) / wall, 1),
            "server_peak_rss_mb": round(max(self.peak_rss, self.rss()) / 2**20, 1),
        }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def summary_ms(values: list[float]) -> dict:
    v = sorted(values)
    if not v:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    return {
        "p50": round(pct(v, 50) * 1000, 2),
        "p95": round(pct(v, 95) * 1000, 2),
        "p99": round(pct(v, 99) * 1000, 2),
        "max": round(v[-1] * 1000, 2),
        "n": len(v),
    }


def sample(values: list[float], k: int = 20000) -> list[float]:
    if len(values) <= k:
        return [round(x * 1000, 3) for x in values]
    return [round(x * 1000, 3) for x in random.sample(values, k)]


async def paced(rate: float, duration: float, fire) -> int:
    """Calls fire(k) at k/rate seconds for `duration` seconds (open loop); returns how many."""
    n = int(rate * duration)
    start = perf()
    k = 0
    while k < n:
        now = perf()
        while k < n and start + k / rate <= now:
            fire(k)
            k += 1
        await asyncio.sleep(max(0.0, start + k / rate - perf()))
    return n


# ---------------------------------------------------------------------------------------- workloads


class Ladder:
    """The offered rates of a fan-out run: up the ladder (each rung about double the last) until the
    first saturated step at or above `min_rate` (below it, go on: the goal's 200/s is always measured);
    then `refine` bisections (geometric midpoints) between the highest sustained and the lowest saturated
    rate, so the ceiling is known to within 2^(1/2^refine) (refine 3: about 9%) without small steps all
    the way up."""

    def __init__(self, rates: list[int], refine: int, min_rate: int) -> None:
        self.rates = list(rates)
        self.refine = refine
        self.min_rate = min_rate
        self.sustained: list[int] = []
        self.saturated: list[int] = []
        self.bisecting = False

    def next(self) -> int | None:
        if not self.bisecting:
            return self.rates.pop(0) if self.rates else None
        if self.refine <= 0 or not self.sustained:
            return None
        good = max(self.sustained)
        above = [r for r in self.saturated if r > good]
        if not above:
            return None
        self.refine -= 1
        mid = round((good * min(above)) ** 0.5)
        return mid if good < mid < min(above) else None

    def record(self, rate: int, saturated: bool) -> None:
        (self.saturated if saturated else self.sustained).append(rate)
        if saturated and rate >= self.min_rate:
            self.bisecting = True


async def fanout(cfg: dict) -> dict:
    """S sessions x C sockets; for each rate R: R mutations/s round-robin over the sessions for D seconds."""
    rec = {"step": Step()}
    sessions = cfg["sessions"]
    t = perf()
    clients, failures = await open_sockets(cfg, [cfg["clients_per_session"]] * len(sessions), rec)
    print(f"  [loadgen] {len(clients)} sockets open in {perf() - t:.1f}s ({failures} failed)", flush=True)
    by_session: dict[int, list[WSClient]] = {}
    for c in clients:
        by_session.setdefault(c.session_id, []).append(c)
    conns = [await http_conn(cfg["port"]) for _ in range(cfg.get("http_conns", 50))]
    mut = Mutator(cfg, conns)
    meter = Meter(cfg["server_pid"])
    expected_head = {sid: max((c.last for c in by_session.get(sid, [])), default=0) for sid, _ in sessions}
    await asyncio.sleep(1.0)
    if cfg.get("ready_file"):
        open(cfg["ready_file"], "w").close()
        await asyncio.sleep(1.0)  # let the profiler attach
    steps = []
    ladder = Ladder(cfg["rates"], cfg.get("refine", 0), cfg.get("min_rate", 200))
    while (rate := ladder.next()) is not None:
        step = rec["step"] = Step()
        await mut.refresh()
        mut.reset()
        lost0 = sum(c.lost for c in clients)
        dups0 = sum(c.dups for c in clients)
        meter.start()
        t_start = perf()
        n = await paced(rate, cfg["duration"], lambda k: mut.submit(*sessions[k % len(sessions)]))
        t_sent = perf()
        dropped = len(mut.backlog)  # offered but not sent by the end of the step: the server is saturated
        mut.backlog.clear()
        await mut.idle(30)
        for sid, ok in mut.ok.items():
            expected_head[sid] += ok
        expected = sum(mut.ok.get(sid, 0) * len(by_session.get(sid, [])) for sid, _ in sessions)
        deadline = perf() + cfg.get("drain", 10)
        while len(step.receipts) < expected and perf() < deadline:
            await asyncio.sleep(0.02)
        metrics = meter.stop()
        lat = []
        unmatched = 0
        for t_recv, cid, hp in step.receipts:
            t0 = mut.sent.get((cid, hp))
            if t0 is None:
                unmatched += 1
            else:
                lat.append(t_recv - t0)
        last_delivery = max((r[0] for r in step.receipts), default=t_sent)
        ok_total = sum(mut.ok.values())
        tail_lost = sum(max(0, expected_head[c.session_id] - c.last) for c in clients)
        lost = sum(c.lost for c in clients) - lost0 + tail_lost
        dups = sum(c.dups for c in clients) - dups0
        # re-sync so one step's losses are not counted again in the next
        for c in clients:
            if c.last < expected_head[c.session_id]:
                c.last = expected_head[c.session_id]
        result = {
            "rate": rate,
            "offered": n,
            "sent": n - dropped,
            "ok": ok_total,
            "errors": mut.errors,
            "achieved_rate": round(ok_total / max(1e-9, (mut.last_done or t_sent) - t_start), 1),
            "expected_deliveries": expected,
            "delivered": len(step.receipts),
            "delivered_per_s": round(len(step.receipts) / max(1e-9, last_delivery - t_start), 1),
            "delivered_per_cpu_s": round(len(step.receipts) / max(1e-9, metrics["server_cpu_s"]), 1),
            "lost": lost,
            "duplicated": dups,
            "unmatched": unmatched,
            "latency_ms": summary_ms(lat),
            "rest_ms": summary_ms(mut.rest_latencies),
            "samples_ms": sample(lat, 5000),
            **metrics,
        }
        if cfg.get("timeline"):
            result["timeline"] = [(round(a - t_start, 4), round(b * 1000, 2)) for a, b in mut.timeline]
        steps.append(result)
        lm = result["latency_ms"]
        print(
            f"  [loadgen] R={rate}/s: ok {ok_total}/{n} ({result['achieved_rate']}/s), delivered "
            f"{result['delivered']}/{expected} = {result['delivered_per_s']}/s, lost {lost}, dup {dups}, "
            f"p50 {lm['p50']} p99 {lm['p99']} max {lm['max']} ms, server CPU {metrics['server_cpu_pct']}%, "
            f"gen CPU {metrics['gen_cpu_pct']}%",
            flush=True,
        )
        saturated = (
            dropped > 0.02 * n
            or result["achieved_rate"] < 0.9 * rate
            or (lm["p99"] or 0) > cfg.get("p99_limit_ms", 500)
            or lost > 0
        )
        if saturated:
            result["saturated"] = True
        ladder.record(rate, saturated)
        await asyncio.sleep(0.5)
    for c in clients:
        c.close()
    for conn in conns:
        if conn.transport:
            conn.transport.close()
    return {"sockets": len(clients), "connect_failures": failures, "steps": steps}


async def idle(cfg: dict) -> dict:
    """N idle sockets; RSS delta per socket; then one broadcast per session to all of them."""
    rec = {"step": Step()}
    meter = Meter(cfg["server_pid"])
    sessions = cfg["sessions"]
    await asyncio.sleep(1.0)
    rss0 = meter.rss()
    n = cfg["connections"]
    per = [n // len(sessions) + (1 if i < n % len(sessions) else 0) for i in range(len(sessions))]
    meter.start()
    t = perf()
    clients, failures = await open_sockets(cfg, per, rec, concurrency=cfg.get("concurrency", 200))
    connect_s = perf() - t
    connect_metrics = meter.stop()
    await asyncio.sleep(cfg.get("settle", 3.0))
    rss1 = meter.rss()
    meter.start()
    await asyncio.sleep(cfg.get("settle", 3.0))
    idle_metrics = meter.stop()
    open_now = sum(1 for c in clients if not c.closed)
    print(
        f"  [loadgen] idle: {open_now}/{n} open in {connect_s:.1f}s, RSS {rss0 / 2**20:.0f} -> {rss1 / 2**20:.0f} MiB "
        f"= {(rss1 - rss0) / max(1, open_now) / 1024:.1f} KiB/socket",
        flush=True,
    )
    # one event per session to every socket
    by_session: dict[int, list[WSClient]] = {}
    for c in clients:
        by_session.setdefault(c.session_id, []).append(c)
    conns = [await http_conn(cfg["port"]) for _ in range(10)]
    mut = Mutator(cfg, conns)
    step = rec["step"] = Step()
    await mut.refresh()
    heads = {sid: max((c.last for c in by_session.get(sid, [])), default=0) for sid, _ in sessions}
    meter.start()
    window_start = time.time()
    await paced(len(sessions) / 2.0, 2.0, lambda k: mut.submit(*sessions[k % len(sessions)]))
    await mut.idle(30)
    expected = sum(mut.ok.get(sid, 0) * len(by_session.get(sid, [])) for sid, _ in sessions)
    deadline = perf() + 20
    while len(step.receipts) < expected and perf() < deadline:
        await asyncio.sleep(0.02)
    bmetrics = meter.stop()
    window = [window_start, time.time()]  # epoch seconds: the harness matches the server's GC pauses to it
    lat = [tr - mut.sent[(cid, hp)] for tr, cid, hp in step.receipts if (cid, hp) in mut.sent]
    lost = sum(c.lost for c in clients) + sum(
        max(0, heads[c.session_id] + mut.ok.get(c.session_id, 0) - c.last) for c in clients
    )
    dups = sum(c.dups for c in clients)
    for c in clients:
        c.close()
    for conn in conns:
        if conn.transport:
            conn.transport.close()
    return {
        "requested": n,
        "open": open_now,
        "connect_failures": failures,
        "connect_seconds": round(connect_s, 2),
        "connects_per_s": round(len(clients) / connect_s, 1),
        "connect_server_cpu_pct": connect_metrics["server_cpu_pct"],
        "rss_before_mb": round(rss0 / 2**20, 1),
        "rss_after_mb": round(rss1 / 2**20, 1),
        "kib_per_socket": round((rss1 - rss0) / max(1, open_now) / 1024, 2),
        "idle_server_cpu_pct": idle_metrics["server_cpu_pct"],
        "broadcast": {
            "mutations": sum(mut.ok.values()),
            "expected": expected,
            "delivered": len(step.receipts),
            "lost": lost,
            "duplicated": dups,
            "latency_ms": summary_ms(lat),
            "window_epoch": window,
            **bmetrics,
        },
    }


async def longpoll(cfg: dict) -> dict:
    """N parked polls over S sessions; then one mutation per session; poll answer time - mutation send time."""
    sessions = cfg["sessions"]
    port = cfg["port"]
    meter = Meter(cfg["server_pid"])
    per_session = cfg["polls"] // len(sessions)
    heads: dict[int, int] = {}
    prime = await http_conn(port)
    for sid, _ in sessions:
        status, _, body, _ = await prime.request(
            http_request(
                "GET", f"/api/realtime/poll.php?session_id={sid}&last_event_id=0&timeout=0", port, cfg["cookie"], ""
            )
        )
        assert status == 200, body[:300]
        heads[sid] = orjson.loads(body)["data"]["last_event_id"]
    polls = [(sid, await http_conn(port)) for sid, _ in sessions for _ in range(per_session)]
    conns = [await http_conn(port) for _ in range(10)]
    mut = Mutator(cfg, conns)
    rounds = []
    all_lat: list[float] = []
    for _ in range(cfg["rounds"]):
        answers: list[tuple[int, float, bytes, int]] = []
        polls = [(sid, conn if not conn.closed else await http_conn(port)) for sid, conn in polls]
        for sid, conn in polls:
            conn.send(
                http_request(
                    "GET",
                    f"/api/realtime/poll.php?session_id={sid}&last_event_id={heads[sid]}&timeout=25",
                    port,
                    cfg["cookie"],
                    "",
                ),
                lambda status, head, body, t, sid=sid, answers=answers: answers.append((sid, t, body, status)),
            )
        await asyncio.sleep(cfg.get("park_seconds", 3.0))
        early = len(answers)
        meter.start()
        await asyncio.sleep(cfg.get("park_seconds", 3.0))
        parked = meter.stop()
        await mut.refresh()
        mut.reset()
        await paced(len(sessions), 1.0, lambda k: mut.submit(*sessions[k % len(sessions)]))
        await mut.idle(30)
        sent_by_session = {}
        for (cid, _hp), t0 in mut.sent.items():
            sent_by_session[next(s for s, c in sessions if c == cid)] = t0
        deadline = perf() + 5
        while len(answers) < len(polls) and perf() < deadline:
            await asyncio.sleep(0.01)
        lat = []
        lost = 0
        for sid, t, body, status in answers:
            events = orjson.loads(body)["data"]["events"] if status == 200 else []
            if not any(e["event_id"] == heads[sid] + 1 for e in events):
                lost += 1
            elif sid in sent_by_session:
                lat.append(t - sent_by_session[sid])
        lost += len(polls) - len(answers)
        for sid in heads:
            heads[sid] += mut.ok.get(sid, 0)
        all_lat += lat
        rounds.append(
            {
                "answered_early": early,
                "lost": lost,
                "parked_server_cpu_pct": parked["server_cpu_pct"],
                "parked_gen_cpu_pct": parked["gen_cpu_pct"],
                "rss_mb": round(meter.rss() / 2**20, 1),
                "latency_ms": summary_ms(lat),
            }
        )
        print(
            f"  [loadgen] long-poll round: {len(answers)}/{len(polls)} answered, lost {lost}, "
            f"parked CPU {parked['server_cpu_pct']}%, latency {summary_ms(lat)}",
            flush=True,
        )
        # wait for stragglers (a poll that did not get its event) so the next round starts clean
        deadline = perf() + 2
        while len(answers) < len(polls) and perf() < deadline:
            await asyncio.sleep(0.05)
    return {
        "polls": len(polls),
        "rounds": rounds,
        "latency_ms": summary_ms(all_lat),
        "lost": sum(r["lost"] for r in rounds),
        "parked_server_cpu_pct": round(sum(r["parked_server_cpu_pct"] for r in rounds) / len(rounds), 1),
        "samples_ms": sample(all_lat, 5000),
    }


async def writes(cfg: dict) -> dict:
    """Closed loop: K connections send update-hp back to back for D seconds; C sockets per session
    subscribed (when the server has sockets), so the events are published and delivered."""
    rec = {"step": Step()}
    sessions = cfg["sessions"]
    clients: list[WSClient] = []
    if cfg.get("flavour") in ("ours", "sio"):
        clients, _ = await open_sockets(cfg, [cfg.get("clients_per_session", 1)] * len(sessions), rec)
    conns = [await http_conn(cfg["port"]) for _ in range(cfg.get("http_conns", 32))]
    mut = Mutator(cfg, conns)
    meter = Meter(cfg["server_pid"])
    await asyncio.sleep(0.5)
    heads = {c.session_id: c.last for c in clients}
    mut.closed_loop = [tuple(s) for s in sessions]
    await mut.refresh()
    meter.start()
    t = perf()
    for conn in list(mut.free):
        mut.free.remove(conn)
        mut._send(conn, *random.choice(mut.closed_loop))
    await asyncio.sleep(cfg["duration"])
    mut.closed_loop = None
    wall = perf() - t
    await mut.idle(30)
    deadline = perf() + 5
    expected = sum(mut.ok.get(c.session_id, 0) for c in clients)
    while clients and len(rec["step"].receipts) < expected and perf() < deadline:
        await asyncio.sleep(0.02)
    metrics = meter.stop()
    lost = sum(c.lost for c in clients) + sum(
        max(0, heads[c.session_id] + mut.ok.get(c.session_id, 0) - c.last) for c in clients
    )
    for c in clients:
        c.close()
    ok = sum(mut.ok.values())
    result = {
        "requests_per_s": round(ok / wall, 1),
        "requests_per_cpu_s": round(ok / max(1e-9, metrics["server_cpu_s"]), 1),
        "ok": ok,
        "errors": mut.errors,
        "rest_ms": summary_ms(mut.rest_latencies),
        "subscribers": len(clients),
        "events_expected": expected,
        "events_delivered": len(rec["step"].receipts),
        "lost": lost,
        **metrics,
    }
    print(
        f"  [loadgen] writes: {result['requests_per_s']}/s, rest {result['rest_ms']}, events "
        f"{result['events_delivered']}/{expected}, server CPU {metrics['server_cpu_pct']}%, "
        f"gen CPU {metrics['gen_cpu_pct']}%",
        flush=True,
    )
    return result


async def main() -> None:
    cfg = orjson.loads(open(sys.argv[1], "rb").read())
    started = time.time()
    result = await {"fanout": fanout, "idle": idle, "longpoll": longpoll, "writes": writes}[cfg["workload"]](cfg)
    result["run_epoch"] = [started, time.time()]  # the harness matches the server's GC pauses to it
    with open(sys.argv[2], "wb") as f:
        f.write(orjson.dumps(result))


if __name__ == "__main__":
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
