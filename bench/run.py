"""The benchmark: one command from a fresh clone, everything on 127.0.0.1.

    python3 bench/run.py                      # full run, writes bench/RESULTS.md and bench/latency.png
    python3 bench/run.py --short              # a check after a change: the same workloads, smaller (< 3 min)
    python3 bench/run.py --repeat 3           # every workload 3 times: min / median / max of each ratio
    python3 bench/run.py --servers ours,node --workloads fanout,writes
    python3 bench/run.py --workloads drags,mapview --drag-sessions 5   # battle map only: its own section

First use makes what it needs under bench/.work/ (not committed): the server's venv (server-venv, with
`pip install -e` of this repository; SERVER_PYTHON=/path/to/python uses that one instead), the bench venv
(venv, from bench/requirements.txt: psutil, matplotlib, py-spy, python-socketio, uvicorn, ...) and the
Node peer's node_modules (`npm ci` in bench/peers/node); then it re-runs itself in the bench venv.

Servers: ours, ours-pg (ours on PostgreSQL; skipped when it is not reachable), pysio (python-socketio),
node (Node Socket.IO 4), legacy (the once-a-second poll). Workloads: fanout, idle, longpoll, writes,
profile (py-spy on ours), drags, mapview (the battle map, ours only). Each server runs as its own process
pinned to one core, the load generator (bench/loadgen.py) on another (bench/harness.py); the code of
each workload is in bench/workloads/, the report in bench/report.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import maps_report
from harness import BENCH, SERVERS, WORK, Logging, Pinning, say

MAIN_WORKLOADS = ("fanout", "idle", "longpoll", "writes")
ONCE_WORKLOADS = ("profile",)  # once per command, not per repetition
MAP_WORKLOADS = ("drags", "mapview")  # battle-map scenarios (bench/maps.py): ours only, their own section
ALL_WORKLOADS = (*MAIN_WORKLOADS, *ONCE_WORKLOADS, *MAP_WORKLOADS)
NODE_WORKLOADS = ("fanout", "idle", "writes")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", "--quick", action="store_true", help="a check after a change: under 3 minutes")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every workload (ratios: min/median/max)")
    parser.add_argument("--servers", default="", help=f"comma-separated, of {','.join(SERVERS)} (default: all)")
    parser.add_argument(
        "--workloads",
        "--only",
        dest="workloads",
        default=None,
        help=f"comma-separated, of {','.join(ALL_WORKLOADS)} (default: fanout,idle,longpoll,writes, and "
        "profile unless --short)",
    )
    parser.add_argument("--access-log", action="store_true", help="every server logs one line per request")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server and the generator to cores")
    parser.add_argument("--server-cpus", default="", help="cores for the servers (default: the first one)")
    parser.add_argument("--gen-cpus", default="", help="cores for the load generator (default: the others)")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10, help="sockets per session (fanout, writes)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per fan-out step and of writes")
    parser.add_argument("--idle", type=int, default=None, help="idle WebSockets")
    parser.add_argument("--drag-sessions", type=int, default=100, help="drags: game sessions")
    parser.add_argument("--drag-players", type=int, default=12, help="drags: players (sockets) per session")
    parser.add_argument("--drag-rate", type=float, default=20, help="drags: positions/s per player")
    parser.add_argument("--drag-seconds", type=float, default=10, help="drags: seconds of dragging")
    parser.add_argument("--move-seconds", type=float, default=60, help="drags: at most this long of durable moves")
    parser.add_argument("--views", type=int, default=300, help="mapview: first views timed")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md/PNG from .work/results.json")
    args = parser.parse_args()
    args.servers_given = bool(args.servers)
    args.servers = [s for s in args.servers.split(",") if s] or list(SERVERS)
    if unknown := set(args.servers) - set(SERVERS):
        parser.error(f"unknown server(s) {sorted(unknown)}; known: {', '.join(SERVERS)}")
    default = MAIN_WORKLOADS if args.short else (*MAIN_WORKLOADS, *ONCE_WORKLOADS)
    args.workloads = [w for w in args.workloads.split(",") if w] if args.workloads else list(default)
    if unknown := set(args.workloads) - set(ALL_WORKLOADS):
        parser.error(f"unknown workload(s) {sorted(unknown)}; known: {', '.join(ALL_WORKLOADS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    short = args.short
    # fan-out: doubling, then bisections after the first break (bench/loadgen.py: Ladder)
    args.rates = [100, 200, 400, 800, 1600, 3200, 6400] if short else [50, 100, 200, 400, 800, 1600, 3200, 6400]
    args.refine = 1 if short else 3
    args.duration = args.duration or (2.0 if short else 8.0)
    args.drain = 2 if short else 10
    args.idle = args.idle or (1000 if short else 10000)
    args.settle = 1.0 if short else 3.0
    args.connect_seconds = 60 if short else 240  # idle: no socket is started after this
    args.polls = 500 if short else 1000
    args.poll_rounds = 1 if short else 2
    args.park_seconds = 1.5 if short else 3.0
    args.write_conns = 32
    args.profile_rate = 400
    return args


def needs_node(args: argparse.Namespace) -> bool:
    return "node" in args.servers and any(w in NODE_WORKLOADS for w in args.workloads)


def run_workloads(args: argparse.Namespace) -> dict:
    from workloads import battle_map, fanout, idle, longpoll, profile, writes

    main = {"fanout": fanout.run, "idle": idle.run, "longpoll": longpoll.run, "writes": writes.run}
    once = {"profile": profile.run, "drags": battle_map.drags, "mapview": battle_map.mapview}
    started = time.time()
    results: dict = {
        "command": f"python3 bench/run.py {' '.join(sys.argv[1:])}".strip(),
        "options": {k: v for k, v in vars(args).items() if k != "report_only"},
        "machine": harness.machine(),
        "runs": [],
    }
    say(f"machine: {results['machine']}")
    raw = results_path(args.short) if any(w in MAIN_WORKLOADS for w in args.workloads) else WORK / "maps-results.json"
    mains = [w for w in MAIN_WORKLOADS if w in args.workloads]
    for rep in range(args.repeat if mains else 0):
        if args.repeat > 1:
            say(f"run {rep + 1} of {args.repeat}")
        run: dict = {}
        results["runs"].append(run)
        for name in mains:
            main[name](args, run)
            raw.write_text(json.dumps(results))
    for name in (w for w in ALL_WORKLOADS if w in once and w in args.workloads):
        once[name](args, results)
        raw.write_text(json.dumps(results))
    results["elapsed_s"] = round(time.time() - started, 1)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    raw.write_text(json.dumps(results))
    say(f"all workloads done in {results['elapsed_s'] / 60:.1f} min")
    return results


def results_path(short: bool) -> Path:
    return WORK / ("results-short.json" if short else "results.json")


def write_reports(results: dict, short: bool) -> None:
    """A full run writes bench/RESULTS.md (with the spread of the last `--short` runs of the same commit)
    and bench/latency.png; a short run writes bench/.work/RESULTS-short.md and latency-short.png."""
    import report

    results_md = WORK / "RESULTS-short.md" if short else BENCH / "RESULTS.md"
    analysis = BENCH / "analysis.md"
    rest, battle_analysis = maps_report.split_analysis(analysis.read_text() if analysis.exists() else "")
    battle_map = maps_report.kept(BENCH / "RESULTS.md")
    if any(k in results for k in MAP_WORKLOADS):
        battle_map = maps_report.section(results, battle_analysis)
    if results.get("runs"):
        spread = None
        if not short and results_path(True).exists():
            spread = json.loads(results_path(True).read_text())
            if spread.get("machine", {}).get("git") != results["machine"].get("git"):
                spread = None  # another commit's: not comparable
        report.write_report(results, results_md, "" if short else rest, spread)
        plot = WORK / "latency-short.png" if short else BENCH / "latency.png"
        report.write_plot(results, plot)
        say(f"wrote {results_md.relative_to(BENCH.parent)} and {plot.relative_to(BENCH.parent)}")
        for label, text in report.headline(results):
            print(f"  {label}: {text}")
        if short:
            return
    if battle_map:  # the battle-map section: this run's, or the one RESULTS.md had
        maps_report.splice(results_md, battle_map)
    for name in MAP_WORKLOADS:
        if name in results:
            say(f"wrote the battle-map section of bench/RESULTS.md ({name})")


def take_lock() -> None:
    """BENCH_LOCK=/path: hold an exclusive flock on it while measuring (not while the venvs are made), so
    that two benchmarks on one machine never overlap."""
    path = os.environ.get("BENCH_LOCK")
    if not path:
        return
    import fcntl

    handle = open(path, "a")  # kept open (and locked) until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say(f"waiting for {path} (another benchmark is running)")
        fcntl.flock(handle, fcntl.LOCK_EX)
    _held.append(handle)


_held: list = []


def main() -> None:
    # SIGTERM unwinds like Ctrl-C, so that the server under test is stopped too (it has its own session)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = options()
    harness.bootstrap(needs_node(args))
    if not args.report_only:
        take_lock()
    Logging.access_log = args.access_log
    Pinning.configure(args.server_cpus, args.gen_cpus, enabled=not args.no_pin)
    harness.raise_file_limit()
    if args.report_only:
        results = json.loads(results_path(args.short).read_text())
        prof = WORK / "profile.speedscope.json"
        if prof.exists() and "error" not in results.get("profile", {"error": 1}):
            from workloads.profile import summarise_profile

            results["profile"].update(summarise_profile(prof))
    else:
        if needs_node(args) and not shutil.which("node"):
            sys.exit("node is required for the Node Socket.IO peer (or leave it out: --servers ours,pysio,...)")
        results = run_workloads(args)
    write_reports(results, args.short)


if __name__ == "__main__":
    main()
