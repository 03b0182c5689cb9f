"""Who is online in each game session: this process's WebSockets and recent polls, plus what the other
processes announce over the broadcast (each announcement expires unless repeated)."""

from __future__ import annotations

import time
from collections import Counter

Member = tuple[int, str]  # (user_id, username)

POLL_WINDOW = 30.0  # a poller counts as online this long after its last poll
REMOTE_TTL = 25.0  # processes re-announce every ANNOUNCE_EVERY seconds
ANNOUNCE_EVERY = 10.0


class Presence:
    def __init__(self) -> None:
        self._sockets: dict[int, Counter[Member]] = {}
        self._polls: dict[int, dict[Member, float]] = {}
        self._remote: dict[int, dict[str, tuple[frozenset[Member], float]]] = {}

    def local(self, session_id: int) -> frozenset[Member]:
        now = time.monotonic()
        polls = self._polls.get(session_id, {})
        for member in [m for m, seen in polls.items() if now - seen > POLL_WINDOW]:
            del polls[member]
        return frozenset(self._sockets.get(session_id, ())) | frozenset(polls)

    def online(self, session_id: int) -> frozenset[Member]:
        now = time.monotonic()
        members = set(self.local(session_id))
        for users, expires in self._remote.get(session_id, {}).values():
            if expires > now:
                members |= users
        return frozenset(members)

    def socket_joined(self, session_id: int, member: Member) -> None:
        self._sockets.setdefault(session_id, Counter())[member] += 1

    def socket_left(self, session_id: int, member: Member) -> None:
        sockets = self._sockets.get(session_id)
        if sockets is None:
            return
        sockets[member] -= 1
        if sockets[member] <= 0:
            del sockets[member]
        if not sockets:
            del self._sockets[session_id]

    def polled(self, session_id: int, member: Member) -> None:
        self._polls.setdefault(session_id, {})[member] = time.monotonic()

    def announced(self, session_id: int, process: str, members: frozenset[Member]) -> None:
        self._remote.setdefault(session_id, {})[process] = (members, time.monotonic() + REMOTE_TTL)

    def forget(self, session_id: int) -> None:
        self._remote.pop(session_id, None)
