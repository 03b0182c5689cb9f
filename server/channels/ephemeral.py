"""Ephemeral frames (drags, pings) of one game session, written in batches: one per turn of the event loop.

The hub judges each ephemeral event once as it arrives (whether players may see it: `TableView.shows`)
and frames it once (`EphemeralFrame`); it is not written to each connection there and then. The frames
wait in the game session's `EphemeralBatch`, which is written at the end of the event loop's turn (with
BATCH_SECONDS above 0, no sooner than that long after the session's previous batch). Each connection gets
one write of the frames it may see, its own left out: the work per connection (a system call) is paid once
per batch, not once per frame. A table of 12 players dragging at 20 positions a second is 240 positions
and 2,640 frames a second; the busier the server, the longer its turns and the more frames a batch holds.
Within a batch the newest frame of a key (a token's position, a user's ping) replaces an older one.

BATCH_SECONDS is 0 by measurement (bench/analysis.md, "Battle map"): 20 ms saved a quarter of the CPU per
position while the server had room, but added its wait to every frame, and at saturation, where the turns
batch anyway, it made the p99 about twice as long.

A connection that cannot take a write at once (its queue of durable events is not empty, its transport
is paused) keeps the frames it may see (`Subscriber.offer_batch`), the newest per key, until it takes them.

A durable event of the game session writes the waiting batch first (`Hub._fan_out`): a drag offered
before a drop, a fog change or a hidden token goes out before it, as it would had it been written at
once, so a player never gets a drag of a token after the event that hid it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection
from typing import TYPE_CHECKING

from server.channels.raw_send import text_frame

BATCH_SECONDS = 0.0  # the shortest time between two batches of one game session (0: every turn)

if TYPE_CHECKING:
    from server.channels.hub import Subscriber


class EphemeralFrame:
    """An ephemeral event's frame, encoded and framed once for every connection that gets it."""

    __slots__ = ("payload", "wire")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload  # the JSON text, encoded
        self.wire = text_frame(payload)

    @property
    def text(self) -> str:
        return self.payload.decode()


class Batched:
    __slots__ = ("frame", "key", "origin", "to_players")

    def __init__(self, key: str, origin: str, to_players: bool, frame: EphemeralFrame) -> None:
        self.key = key
        self.origin = origin  # the sending connection: not echoed to it
        self.to_players = to_players  # False: for the DM only
        self.frame = frame


class EphemeralBatch:
    """The ephemeral frames of one game session not yet written, newest per key."""

    __slots__ = ("items", "scheduled", "subscribers", "written_at")

    def __init__(self, subscribers: Collection[Subscriber]) -> None:
        self.subscribers = subscribers  # the game session's connections in this process (the channel's set)
        self.items: dict[str, Batched] = {}
        self.scheduled = False  # a `write` is due (at the end of the turn or BATCH_SECONDS after the last)
        self.written_at = -math.inf

    def add(self, item: Batched) -> None:
        self.items.pop(item.key, None)  # re-inserted last: frames go out in the order of their latest update
        self.items[item.key] = item
        if not self.scheduled:
            self.scheduled = True
            loop = asyncio.get_running_loop()
            wait = self.written_at + BATCH_SECONDS - loop.time()
            if wait > 0:
                loop.call_later(wait, self._due)
            else:
                loop.call_soon(self._due)

    def _due(self) -> None:
        self.scheduled = False
        self.write()

    def forget(self, key: str) -> None:
        self.items.pop(key, None)

    def write(self) -> None:
        """Write the batch to the connections that may see it and empty it."""
        if not self.items:
            return
        batch = list(self.items.values())
        self.items = {}
        if BATCH_SECONDS:
            self.written_at = asyncio.get_running_loop().time()
        everything = b"".join([item.frame.wire for item in batch])  # what the DM's connections get
        players = everything
        if not all(item.to_players for item in batch):
            players = b"".join([item.frame.wire for item in batch if item.to_players])
        # A connection that sent frames of this batch gets the rest: cut out of `everything` where it sent
        # one frame (the common case), rebuilt where it sent more.
        spans: dict[str, tuple[int, int] | None] = {}
        at = 0
        for item in batch:
            end = at + len(item.frame.wire)
            spans[item.origin] = None if item.origin in spans else (at, end)
            at = end
        for subscriber in self.subscribers:
            sink = subscriber.ephemeral_sink()
            if sink is None:
                subscriber.offer_batch(batch)
                continue
            dm = subscriber.viewer.is_dm
            origin = subscriber.origin
            if origin not in spans:
                data = everything if dm else players
            elif (span := spans[origin]) is not None and (dm or players is everything):
                data = everything[: span[0]] + everything[span[1] :]
            else:
                data = b"".join([i.frame.wire for i in batch if i.origin != origin and (dm or i.to_players)])
            if data:
                sink.write_now(data)
