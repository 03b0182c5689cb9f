"""bench/RESULTS.md and bench/latency.png from the raw results (bench/.work/results.json).

The results hold one entry per repetition (`--repeat N`) in results["runs"]; the detailed tables show
the last one, and the table of ratios and goals gives each number's min / median / max over all of them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from harness import SERVERS


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


def _div(a, b) -> float | None:
    return a / b if a and b else None


# --------------------------------------------------------------------------------------------- fan-out


def fanout_summary(res: dict) -> dict:
    """Highest sustained rate, the lowest saturated rate above it, the step with the most delivered
    events/s, and the step at 200/s (the goal's rate). Steps are not in rate order after the bisection."""
    steps = res.get("steps") or []
    ok = [s for s in steps if not s.get("saturated")]
    sus = max(ok, key=lambda s: s["rate"], default=None)
    above = [s for s in steps if s.get("saturated") and (sus is None or s["rate"] > sus["rate"])]
    broke = min(above, key=lambda s: s["rate"], default=None)
    peak = max(steps, key=lambda s: s["delivered_per_s"], default=None)
    at200 = next((s for s in steps if s["rate"] == 200), None)
    return {"sustained": sus, "broke": broke, "peak": peak, "at200": at200}


def _peak(run: dict, kind: str, key: str) -> float | None:
    res = run.get("fanout", {}).get(kind)
    if not res or "steps" not in res:
        return None
    peak = fanout_summary(res)["peak"]
    return peak.get(key) if peak else None


def _same_rate(run: dict, kind: str) -> float | None:
    """Delivered events per CPU-second, ours / `kind`, at the highest offered rate both ran unsaturated (else
    the highest both ran): the same work offered to both, where the peak ratio compares different loads."""
    fo = run.get("fanout", {})
    steps = {k: {s["rate"]: s for s in fo.get(k, {}).get("steps") or []} for k in ("ours", kind)}
    common = set(steps["ours"]) & set(steps[kind])
    calm = [r for r in common if not steps["ours"][r].get("saturated") and not steps[kind][r].get("saturated")]
    if not (calm or common):
        return None
    rate = max(calm or common)
    return _div(steps["ours"][rate].get("delivered_per_cpu_s"), steps[kind][rate].get("delivered_per_cpu_s"))


def _sustained(run: dict, kind: str) -> float | None:
    res = run.get("fanout", {}).get(kind)
    if not res or "steps" not in res:
        return None
    sus = fanout_summary(res)["sustained"]
    return sus["rate"] if sus else None


def _p99_at200(run: dict, kind: str) -> float | None:
    res = run.get("fanout", {}).get(kind)
    at200 = fanout_summary(res)["at200"] if res and "steps" in res else None
    return at200["latency_ms"]["p99"] if at200 else None


def _get(run: dict, *path: str) -> float | None:
    node = run
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, int | float) else None


# --------------------------------------------------------------------------------------------- metrics


class Metric:
    """One number of the ratios table: how to read it from a run, its unit and its goal (if any)."""

    def __init__(
        self, label: str, read: Callable[[dict], float | None], unit: str = "x", goal: tuple[str, float] | None = None
    ) -> None:
        self.label = label
        self.read = read
        self.unit = unit
        self.goal = goal

    def show(self, v: float | None) -> str:
        if v is None:
            return "–"
        if self.unit == "x":
            return f"{v:.2f}x"
        return f"{v:,.1f} {self.unit}"

    def meets(self, v: float | None) -> bool | None:
        if self.goal is None or v is None:
            return None
        op, bound = self.goal
        return v >= bound if op == ">=" else v < bound

    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        op, bound = self.goal
        return f"{'≥' if op == '>=' else '<'} {self.show(bound)}"


METRICS = [
    Metric(
        "fan-out: delivered events per server CPU-second, ours / Node",
        lambda r: _div(_peak(r, "ours", "delivered_per_cpu_s"), _peak(r, "node", "delivered_per_cpu_s")),
        goal=(">=", 0.5),
    ),
    Metric(
        "fan-out: delivered events per server CPU-second, ours / python-socketio",
        lambda r: _div(_peak(r, "ours", "delivered_per_cpu_s"), _peak(r, "pysio", "delivered_per_cpu_s")),
    ),
    Metric(
        "fan-out: events per server CPU-second at the same offered rate (highest both sustained), ours / Node",
        lambda r: _same_rate(r, "node"),
    ),
    Metric(
        "fan-out: events per server CPU-second at the same offered rate, ours / python-socketio",
        lambda r: _same_rate(r, "pysio"),
    ),
    Metric(
        "fan-out: max delivered events/s, ours / Node",
        lambda r: _div(_peak(r, "ours", "delivered_per_s"), _peak(r, "node", "delivered_per_s")),
    ),
    Metric(
        "fan-out: max delivered events/s, ours / python-socketio",
        lambda r: _div(_peak(r, "ours", "delivered_per_s"), _peak(r, "pysio", "delivered_per_s")),
    ),
    Metric(
        "fan-out: highest sustained mutations/s, ours / Node",
        lambda r: _div(_sustained(r, "ours"), _sustained(r, "node")),
    ),
    Metric(
        "fan-out: highest sustained mutations/s, ours / python-socketio",
        lambda r: _div(_sustained(r, "ours"), _sustained(r, "pysio")),
    ),
    Metric("fan-out: ours, p99 at 200 mutations/s (1,000 sockets)", lambda r: _p99_at200(r, "ours"), "ms", ("<", 15)),
    Metric(
        "closed-loop update-hp/s (SQLite), ours / python-socketio",
        lambda r: _div(_get(r, "writes", "ours", "requests_per_s"), _get(r, "writes", "pysio", "requests_per_s")),
        goal=(">=", 1.5),
    ),
    Metric(
        "closed-loop update-hp/s (SQLite), ours / Node",
        lambda r: _div(_get(r, "writes", "ours", "requests_per_s"), _get(r, "writes", "node", "requests_per_s")),
    ),
    Metric(
        "update-hp per server CPU-second, ours / python-socketio",
        lambda r: _div(
            _get(r, "writes", "ours", "requests_per_cpu_s"), _get(r, "writes", "pysio", "requests_per_cpu_s")
        ),
    ),
    Metric(
        "update-hp per server CPU-second, ours / Node",
        lambda r: _div(
            _get(r, "writes", "ours", "requests_per_cpu_s"), _get(r, "writes", "node", "requests_per_cpu_s")
        ),
    ),
    Metric(
        "broadcast to the idle sockets: ours, p99",
        lambda r: _get(r, "idle", "ours", "broadcast", "latency_ms", "p99"),
        "ms",
        ("<", 50),
    ),
    Metric(
        "broadcast to the idle sockets: ours, longest GC pause during it (wall)",
        lambda r: _get(r, "idle", "ours", "broadcast", "gc", "max_ms"),
        "ms",
    ),
    Metric(
        "broadcast to the idle sockets: ours, costliest GC pass during it (CPU)",
        lambda r: _get(r, "idle", "ours", "broadcast", "gc", "max_pass_cpu_ms"),
        "ms",
    ),
    Metric(
        "idle sockets: ours, longest GC pause while the generator ran (connects included)",
        lambda r: _get(r, "idle", "ours", "gc", "max_ms"),
        "ms",
    ),
    Metric("memory per idle WebSocket: ours", lambda r: _get(r, "idle", "ours", "kib_per_socket"), "KiB", ("<", 20)),
    Metric(
        "memory per idle WebSocket, ours / Node",
        lambda r: _div(_get(r, "idle", "ours", "kib_per_socket"), _get(r, "idle", "node", "kib_per_socket")),
    ),
    Metric(
        "memory per idle WebSocket, ours / python-socketio",
        lambda r: _div(_get(r, "idle", "ours", "kib_per_socket"), _get(r, "idle", "pysio", "kib_per_socket")),
    ),
    Metric("long-poll: ours, delivery p50", lambda r: _get(r, "longpoll", "ours", "latency_ms", "p50"), "ms"),
]


def spread(runs: list[dict]) -> list[dict]:
    """Each metric over the runs: values, min, median, max and how many runs met its goal."""
    rows = []
    for metric in METRICS:
        values = [metric.read(run) for run in runs]
        known = [v for v in values if v is not None]
        if not known:
            continue
        met = [metric.meets(v) for v in known]
        rows.append(
            {
                "metric": metric,
                "values": values,
                "min": min(known),
                "median": statistics.median(known),
                "max": max(known),
                "met": sum(1 for m in met if m),
                "n": len(known),
            }
        )
    return rows


def verdict(row: dict) -> str:
    metric = row["metric"]
    if metric.goal is None:
        return ""
    if row["met"] == row["n"]:
        return f"met in all {row['n']} run(s)"
    if row["met"] == 0:
        return f"**missed** in all {row['n']} run(s)"
    return f"met in {row['met']} of {row['n']} runs"


def ratios_table(runs: list[dict], title: str) -> list[str]:
    L = [
        f"## {title}\n",
        "Each run is the whole set of workloads (every server restarted with a fresh database); a ratio is "
        "ours / peer within one run. *Per server CPU-second*: delivered events (or answered writes) divided by "
        "the CPU seconds the server process used in that step, so a server's rate is compared per unit of the "
        "one core it was given, independent of how busy the rest of the machine was. The fan-out ratios are "
        "at each server's step with the most delivered events/s, unless they say *at the same offered rate* "
        "(a server's work per event falls as its load rises, so the peak ratio favours the server that gets "
        "further).\n",
        "| | min | median | max | runs | goal | verdict |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in spread(runs):
        m = row["metric"]
        each = ", ".join(m.show(v) for v in row["values"])
        L.append(
            f"| {m.label} | {m.show(row['min'])} | **{m.show(row['median'])}** | {m.show(row['max'])} | {each} "
            f"| {m.goal_text()} | {verdict(row)} |"
        )
    L.append("")
    return L


def headline(results: dict) -> list[tuple[str, str]]:
    """Median (min to max) of each metric, for the console and the README."""
    out = []
    for row in spread(results["runs"]):
        m = row["metric"]
        text = m.show(row["median"])
        if row["n"] > 1:
            text += f" ({m.show(row['min'])} – {m.show(row['max'])})"
        out.append((m.label, text + (f"  [goal {m.goal_text()}: {verdict(row)}]" if m.goal else "")))
    return out


# ---------------------------------------------------------------------------------------------- report


def _gc_cell(g: dict | None) -> str:
    if not g:
        return "–"
    cpu = f" (its CPU {fmt(g['max_cpu_ms'], 1)})" if g.get("max_cpu_ms") is not None else ""
    costliest = f"; costliest pass CPU {fmt(g['max_pass_cpu_ms'], 1)} ms" if g.get("max_pass_cpu_ms") else ""
    return f"{fmt(g['max_ms'], 1)} ms{cpu}{costliest}; {g['full_passes']} full passes"


def _fanout(run: dict, o: dict, w: Callable[[str], None]) -> None:
    fo = run["fanout"]
    w(
        f"## 1. Fan-out: {o['sessions']} sessions x {o['clients']} sockets = "
        f"{o['sessions'] * o['clients']:,} connections\n"
    )
    w(
        f"Open loop: R mutations/s round-robin over the sessions, {o['duration']} s per step, 50 keep-alive REST "
        f"connections. R climbs the ladder {o['rates']} until the first saturated step at or above 200/s (it "
        "could not send ≥98% of the offered requests in time, answered <90% of R, p99 > 500 ms or lost an "
        f"event), then {o['refine']} bisection(s) at the geometric midpoint between the highest sustained and the "
        "lowest saturated rate. Rows are in the order run. *events/CPU-s*: delivered events per second of the "
        "server's CPU in that step.\n"
    )
    for kind, res in fo.items():
        w(f"### {SERVERS[kind]}\n")
        if "skipped" in res:
            w(f"Skipped: {res['skipped']}\n")
            continue
        w(
            "| offered R/s | answered/s | delivered events/s | events/CPU-s | p50 ms | p95 ms | p99 ms | max ms | lost "
            "| dup | REST p50 ms | server CPU | peak RSS MiB | gen CPU |"
        )
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for s in res["steps"]:
            lm = s["latency_ms"]
            mark = " (saturated)" if s.get("saturated") else ""
            w(
                f"| {s['rate']:,}{mark} | {fmt(s['achieved_rate'])} | {fmt(s['delivered_per_s'])} | "
                f"{fmt(s.get('delivered_per_cpu_s'), 0)} | {fmt(lm['p50'], 2)} | {fmt(lm['p95'], 2)} | "
                f"{fmt(lm['p99'], 2)} | {fmt(lm['max'], 1)} | {s['lost']} | {s['duplicated']} | "
                f"{fmt(s['rest_ms']['p50'], 2)} | {s['server_cpu_pct']}% | {s['server_peak_rss_mb']} | "
                f"{s['gen_cpu_pct']}% |"
            )
        w("")
    w("### Summary\n")
    w(
        "| server | highest sustained R/s (lowest saturated) | max delivered events/s | events/CPU-s at that step "
        "| p99 @ 200/s | lost / dup (all steps) | longest GC pause (full passes) | ours / this: events/s "
        "| ours / this: events/CPU-s |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours_peak = fanout_summary(fo["ours"])["peak"] if "steps" in fo.get("ours", {}) else None
    for kind, res in fo.items():
        if "steps" not in res or not res["steps"]:
            continue
        s = fanout_summary(res)
        sus = s["sustained"]["rate"] if s["sustained"] else "none"
        broke = s["broke"]["rate"] if s["broke"] else "none"
        p99 = s["at200"]["latency_ms"]["p99"] if s["at200"] else None
        lost = sum(x["lost"] for x in res["steps"])
        dups = sum(x["duplicated"] for x in res["steps"])
        peak = s["peak"]
        mine = kind == "ours" or ours_peak is None
        w(
            f"| {SERVERS[kind]} | {fmt(sus)} ({fmt(broke)}) | {fmt(peak['delivered_per_s'])} | "
            f"{fmt(peak.get('delivered_per_cpu_s'), 0)} | {fmt(p99, 2)} ms | {lost} / {dups} | "
            f"{_gc_cell(res.get('gc'))} | "
            f"{'1' if mine else ratio(ours_peak['delivered_per_s'], peak['delivered_per_s'])} | "
            f"{'1' if mine else ratio(ours_peak.get('delivered_per_cpu_s'), peak.get('delivered_per_cpu_s'))} |"
        )
    w("")


def _idle(run: dict, o: dict, w: Callable[[str], None]) -> None:
    idl = run["idle"]
    w(f"## 2. Idle connections: {o['idle']:,} WebSockets over {o['sessions']} sessions\n")
    w(
        f"Memory per connection = (server RSS with all sockets open, after {o['settle']} s of settling − RSS "
        "before) / N. Then one mutation per session is delivered to all of them (the *broadcast* columns), with "
        "the longest garbage-collector pause of the server during the broadcast beside it (Python servers: "
        "`gc.callbacks` in bench/serverwrap.py; Node: not recorded): wall time, with the CPU time of that pass "
        "and of the costliest pass (on a busy machine a pass's wall time is mostly the time the process waited "
        "for its core).\n"
    )
    w(
        "| server | open | connect time s (conn/s) | RSS before → after MiB | KiB per socket | idle CPU | "
        "broadcast p50 / p99 / max ms | longest GC pause in the broadcast | lost / dup | longest GC pause, "
        "whole run | ours / this: KiB per socket |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = idl.get("ours", {}).get("kib_per_socket")
    for kind, r in idl.items():
        if "skipped" in r:
            w(f"| {SERVERS[kind]} | skipped: {r['skipped']} |||||||||")
            continue
        b = r["broadcast"]["latency_ms"]
        w(
            f"| {SERVERS[kind]} | {r['open']:,} / {r['requested']:,} | {r['connect_seconds']} "
            f"({fmt(r['connects_per_s'])}) | {r['rss_before_mb']} → {r['rss_after_mb']} | {r['kib_per_socket']} | "
            f"{r['idle_server_cpu_pct']}% | {fmt(b['p50'], 1)} / {fmt(b['p99'], 1)} / {fmt(b['max'], 1)} | "
            f"{_gc_cell(r['broadcast'].get('gc'))} | {r['broadcast']['lost']} / {r['broadcast']['duplicated']} | "
            f"{_gc_cell(r.get('gc'))} | {'1' if kind == 'ours' else ratio(base, r['kib_per_socket'])} |"
        )
    w("")


def _longpoll(run: dict, o: dict, w: Callable[[str], None]) -> None:
    lp = run["longpoll"]
    w(f"## 3. Long-poll: {o['polls']:,} parked polls over {o['sessions']} sessions\n")
    w(
        f"{o['poll_rounds']} round(s): park the polls (`timeout=25`), wait {o['park_seconds']} s, measure the "
        f"server's CPU for {o['park_seconds']} s while they wait, then one mutation per session; latency = poll "
        "answer received − mutation sent.\n"
    )
    w("| server | polls | delivery p50 / p95 / p99 / max ms | lost | server CPU while parked | ours / this: p50 |")
    w("|---|---:|---:|---:|---:|---:|")
    for kind, r in lp.items():
        if "skipped" in r:
            w(f"| {SERVERS[kind]} | skipped: {r['skipped']} |||||")
            continue
        lm = r["latency_ms"]
        base = lp.get("ours", {}).get("latency_ms", {}).get("p50")
        w(
            f"| {SERVERS[kind]} | {r['polls']:,} | {fmt(lm['p50'], 1)} / {fmt(lm['p95'], 1)} / {fmt(lm['p99'], 1)} / "
            f"{fmt(lm['max'], 1)} | {r['lost']} | {r['parked_server_cpu_pct']}% | "
            f"{'1' if kind == 'ours' else ratio(base, lm['p50'])} |"
        )
    w("")


def _writes(run: dict, o: dict, w: Callable[[str], None]) -> None:
    wr = run["writes"]
    w("## 4. Writes: update-hp requests per second\n")
    w(
        f"Closed loop: {o['write_conns']} keep-alive connections send update-hp back to back for {o['duration']} s "
        f"over the {o['sessions']} characters; {o['clients']} WebSockets per session subscribed (none for the "
        "legacy server), so every write publishes an event that is delivered to 10 sockets. *per CPU-s*: "
        "answered writes per second of the server's CPU (its deliveries included).\n"
    )
    w(
        "| server | database | requests/s | per CPU-s | REST p50 / p99 ms | events delivered / expected | lost "
        "| server CPU | gen CPU | ours (SQLite) / this: requests/s | per CPU-s |"
    )
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = wr.get("ours", {})
    for kind, r in wr.items():
        dbname = "PostgreSQL 127.0.0.1" if kind == "ours-pg" else "SQLite (WAL)"
        if "skipped" in r:
            w(f"| {SERVERS[kind]} | {dbname} | skipped: {r['skipped']} |||||||||")
            continue
        mine = kind == "ours"
        w(
            f"| {SERVERS[kind]} | {dbname} | {fmt(r['requests_per_s'])} | {fmt(r.get('requests_per_cpu_s'), 0)} | "
            f"{fmt(r['rest_ms']['p50'], 2)} / {fmt(r['rest_ms']['p99'], 2)} | {r['events_delivered']:,} / "
            f"{r['events_expected']:,} | {r['lost']} | {r['server_cpu_pct']}% | {r['gen_cpu_pct']}% | "
            f"{'1' if mine else ratio(base.get('requests_per_s'), r['requests_per_s'])} | "
            f"{'1' if mine else ratio(base.get('requests_per_cpu_s'), r.get('requests_per_cpu_s'))} |"
        )
    w("")


def _profile(p: dict, o: dict, w: Callable[[str], None]) -> None:
    w("## Profile of our hot path under fan-out\n")
    if "error" in p:
        w(f"Profiling failed: {p['error']}\n")
        return
    run = p.get("run") or {}
    w(
        f"`py-spy record --rate 100 --format speedscope` attached to our server during a fan-out step of "
        f"{o['sessions']} x {o['clients']} sockets at {p['rate']} mutations/s (server CPU "
        f"{run.get('server_cpu_pct', '?')}%, p99 {run.get('latency_ms', {}).get('p99', '?')} ms; py-spy adds some "
        f"overhead). {p['seconds']} s of samples after dropping {p['idle_seconds_excluded']} s in which the "
        "database worker threads were blocked waiting for work; percentages are of all remaining samples of all "
        "threads. uvloop is C code that py-spy cannot see into: its time shows as the self time of `asyncio.run`.\n"
    )
    w("Threads: " + ", ".join(f"{k}: {v}%" for k, v in p["threads"].items()) + "\n")
    w("**Where the time goes, by activity** (each sample counted once, first match in this order):\n")
    w("| activity | % of samples |\n|---|---:|")
    for k, v in p["buckets"]:
        w(f"| {k} | {v} |")
    w(
        "\nThe query layer (server/database.py -> aiosqlite or asyncpg -> the database), wherever it is called "
        f"from: **{p['sql_layer_pct']}%** of samples.\n"
    )
    for title, key, code in (
        ("**Self time by library** (where the CPU actually is):", "self_by_library", False),
        ("**Inclusive time of our functions** (time spent in the function and what it calls):", "inclusive_ours", True),
        ("**Top self time by function:**", "self_top", True),
    ):
        w(f"{title}\n")
        w(f"| {'function' if code else 'library'} | % of samples |\n|---|---:|")
        for k, v in p[key]:
            w(f"| {f'`{k}`' if code else k} | {v} |")
        w("")


def write_report(results: dict, path: Path, analysis: str, short: dict | None = None) -> None:
    """RESULTS.md of `results`; `short`: the results of a `--short --repeat N` run of the same code, whose
    spread is shown beside the full run's."""
    m = results["machine"]
    o = results["options"]
    runs = results["runs"]
    run = runs[-1]
    L: list[str] = []
    w = L.append
    w("# Benchmarks: our real-time server against python-socketio, Node Socket.IO and the legacy poll\n")
    w(
        f"Generated by `{results['command']}` on {results['finished']} in {results['elapsed_s'] / 60:.1f} min "
        f"({len(runs)} run(s) of every workload; the detailed tables are of the last run, the ratios table spans "
        "all). Every server ran as its own process on 127.0.0.1 with a fresh database; the load came from "
        "`bench/loadgen.py`, a separate asyncio/uvloop process with raw-socket HTTP/1.1 and WebSocket clients. "
        "Raw numbers: `bench/.work/results.json` (`results-short.json` for `--short`; not committed).\n"
    )
    w("## Machine\n")
    w("| | |\n|---|---|")
    w(f"| CPU | {m['cpu']} |\n| cores | {m['cores']}: {m.get('pinning', 'not pinned')} |")
    w(f"| load average at the start | {m.get('load_average', '?')} (other work on the machine shares the cores) |")
    w(f"| RAM | {m['ram_gib']} GiB |\n| OS | {m['os']} |")
    w(f"| Python | {m['python_server']} (our server), {m['python_bench']} (peers, generator) |")
    w(f"| Node | {m['node']} |\n| versions | {m['versions']} |\n| open files limit | {m['nofile']} |")
    w(
        "| logging | "
        + (
            "every server logs one line per request (`--access-log`)"
            if m.get("access_log")
            else "no server logs per request or per connection (INFO off on the Python servers, none on Node)"
        )
        + " |"
    )
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
    L += ratios_table(runs, f"Ratios and goals: min / median / max over {len(runs)} run(s) of this command")
    if short and short.get("runs"):
        so = short["options"]
        L += ratios_table(
            short["runs"],
            f"The same over {len(short['runs'])} short runs (`{short['command']}`, {short['finished']}, same code): "
            f"{so['idle']:,} idle sockets, {so['duration']} s steps, {so['polls']} polls",
        )
    if "fanout" in run:
        _fanout(run, o, w)
    if "idle" in run:
        _idle(run, o, w)
    if "longpoll" in run:
        _longpoll(run, o, w)
    if "writes" in run:
        _writes(run, o, w)
    w("## Latency distributions\n")
    w("![latency distributions](latency.png)\n")
    if "profile" in results:
        _profile(results["profile"], o, w)
    if analysis:
        w(analysis.strip() + "\n")
    path.write_text("\n".join(L))


# ------------------------------------------------------------------------------------------------ plot


def _legend(ax, size: int) -> None:
    if ax.get_legend_handles_labels()[0]:  # a workload that did not run leaves its panel empty
        ax.legend(fontsize=size)


def write_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    run = results["runs"][-1]
    colors = {"ours": "tab:blue", "pysio": "tab:orange", "node": "tab:green", "legacy": "tab:red"}
    fig, axes = plt.subplots(1, 4, figsize=(24, 5.2))
    fo = {k: v for k, v in run.get("fanout", {}).items() if v.get("steps")}
    ax = axes[0]
    for kind, res in fo.items():
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
    _legend(ax, 8)

    ax = axes[1]
    for kind, res in fo.items():
        steps = sorted(res["steps"], key=lambda s: s["rate"])
        rates = [s["rate"] for s in steps]
        ax.plot(rates, [s["latency_ms"]["p50"] for s in steps], "o-", color=colors[kind], label=f"{SERVERS[kind]} p50")
        ax.plot(rates, [s["latency_ms"]["p99"] for s in steps], "s--", color=colors[kind], label=f"{SERVERS[kind]} p99")
    ax.axhline(15, color="gray", linestyle=":", label="goal: p99 15 ms at 200/s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered mutations/s (log)")
    ax.set_ylabel("latency (ms, log)")
    ax.set_title("Fan-out latency vs offered rate")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax, 7)

    ax = axes[2]
    for kind, res in fo.items():
        steps = sorted(res["steps"], key=lambda s: s["rate"])
        ax.plot(
            [s["rate"] for s in steps],
            [s.get("delivered_per_cpu_s") for s in steps],
            "o-",
            color=colors[kind],
            label=SERVERS[kind],
        )
    ax.set_xscale("log")
    ax.set_xlabel("offered mutations/s (log)")
    ax.set_ylabel("delivered events per server CPU-second")
    ax.set_title("Fan-out work per CPU-second (the fairness ratio)")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax, 8)

    ax = axes[3]
    for kind, res in run.get("longpoll", {}).items():
        if res.get("samples_ms"):
            v = np.sort(np.array(res["samples_ms"]))
            ax.plot(v, np.arange(1, len(v) + 1) / len(v), color=colors[kind], label=SERVERS[kind])
    ax.set_xscale("log")
    ax.set_xlabel("mutation -> poll answer latency (ms, log)")
    ax.set_title("Long-poll delivery latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax, 8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
