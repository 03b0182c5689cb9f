"""The server's Prometheus metrics: one owner of prometheus-client.

create_app builds one `Metrics` (with its own registry, so several apps can live in one process); the hub,
the event log, the database and the request log report to it through small methods. With
PROMETHEUS_MULTIPROC_DIR set (several processes on one host), prometheus-client keeps the values in files
in that directory and `exposition()` sums every process's; the directory must be emptied before the
processes start. Gauges that are "per process" then carry a `pid` label.
"""

from __future__ import annotations

import os
import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Request and statement times are mostly milliseconds; a poll parks for up to 25 s.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PAUSE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def multiprocess_dir() -> str | None:
    """The directory shared by the processes of one host, if metrics are multi-process."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.connections = Gauge(
            "vtt_connections",
            "Open WebSockets (kind=socket) and parked long-polls (kind=poll) of this process",
            ["kind"],
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.send_queue_frames = Gauge(
            "vtt_send_queue_frames",
            "Frames waiting in this process's connection queues (total, and the longest queue)",
            ["measure"],
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.events_published = Counter(
            "vtt_events_published", "Events published after their transaction committed", registry=registry
        )
        self.events_delivered = Counter(
            "vtt_events_delivered", "Events queued to a connection (one per event per recipient)", registry=registry
        )
        self.delivery_lag = Histogram(
            "vtt_event_delivery_lag_seconds",
            "From an event's publish to its fan-out to this process's connections",
            registry=registry,
            buckets=_LAG_BUCKETS,
        )
        self.slow_reader_closes = Counter(
            "vtt_slow_reader_closes", "Connections closed because they fell too far behind", registry=registry
        )
        self.requests = Histogram(
            "vtt_http_request_duration_seconds",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.database = Histogram(
            "vtt_database_statement_seconds",
            "Time spent in database statements",
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.collector_pauses = Histogram(
            "vtt_gc_pause_seconds",
            "Garbage-collector passes by generation (2: full), each a pause of the event loop",
            ["generation"],
            registry=registry,
            buckets=_PAUSE_BUCKETS,
        )
        self.collector_longest_pause = Gauge(
            "vtt_gc_longest_pause_seconds",
            "The longest garbage-collector pause of this process so far",
            registry=registry,
            multiprocess_mode="max",
        )
        self._longest_pause = 0.0
        self._pauses: deque[tuple[int, float]] = deque(maxlen=10_000)
        self._active_at = 0.0  # when an event was last fanned out or a request answered (monotonic)

        for kind in ("socket", "poll"):
            self.connections.labels(kind)  # shown as 0 from the start, not only once a connection came
        self.queue_depths(0, 0)

    def observe_statement(self, seconds: float) -> None:
        self.database.observe(seconds)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._active_at = time.monotonic()
        self.requests.labels(route, method, str(status)).observe(seconds)

    def published(self, count: int) -> None:
        self.events_published.inc(count)

    def dispatched(self, sent_at: float | None) -> None:
        """Events published at `sent_at` (wall clock) were just fanned out here."""
        self._active_at = time.monotonic()
        if isinstance(sent_at, int | float):
            self.delivery_lag.observe(max(0.0, time.time() - sent_at))

    def quiet_for(self, now: float) -> float:
        """Seconds (monotonic `now`) since an event was last fanned out or a request answered."""
        return now - self._active_at

    def collector_paused(self, generation: int, seconds: float) -> None:
        """Called from gc.callbacks, where prometheus-client's locks (not reentrant) must not be taken: a
        pass can start while one is held. Noted here, observed by `note_collector_pauses`."""
        self._pauses.append((generation, seconds))

    def note_collector_pauses(self) -> None:
        while self._pauses:
            generation, seconds = self._pauses.popleft()
            self.collector_pauses.labels(str(generation)).observe(seconds)
            if seconds > self._longest_pause:
                self._longest_pause = seconds
                self.collector_longest_pause.set(seconds)

    def queue_depths(self, total: int, longest: int) -> None:
        self.send_queue_frames.labels("total").set(total)
        self.send_queue_frames.labels("longest").set(longest)

    def exposition(self) -> bytes:
        """The text format: this registry's metrics, or every process's when multi-process."""
        self.note_collector_pauses()
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=directory)
        return generate_latest(combined)

    @staticmethod
    def process_exited() -> None:
        """Drop this process's live gauges from the shared directory (at shutdown)."""
        directory = multiprocess_dir()
        if directory is not None:
            multiprocess.mark_process_dead(os.getpid(), directory)
