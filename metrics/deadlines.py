"""Deadlines for work that runs on the caller's thread and can be cancelled from another one.

DuckDB runs in-process and can interrupt its own query (`connection.interrupt()`), so a query
needs no worker thread to be bounded: one watchdog thread calls the cancel of any deadline
that passes. A deadline that is met is only marked finished; the watchdog drops it when its
time comes, so starting and finishing one costs a lock and a heap push, and never wakes the
watchdog while earlier deadlines are pending.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadline:
    """One piece of work's deadline: what cancels it, and whether it was cancelled."""

    def __init__(self, at: float) -> None:
        self.at = at
        self._lock = threading.Lock()
        self._cancel: Callable[[], None] | None = None
        self._expired = False

    @property
    def expired(self) -> bool:
        """Whether the deadline passed while a cancel was armed, and the cancel was called."""
        return self._expired

    def arm(self, cancel: Callable[[], None] | None) -> None:
        """Call `cancel` if the deadline passes from now on; None disarms. After `arm(None)`
        returns, no cancel runs any more."""
        with self._lock:
            self._cancel = cancel

    def _expire(self) -> None:
        with self._lock:
            if self._cancel is None:
                return
            self._expired = True
            self._cancel()
            self._cancel = None


class Watchdog:
    """One daemon thread that cancels the work of every deadline that passes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self, seconds: float) -> Deadline:
        """A deadline `seconds` from now; arm it with the work's cancel."""
        deadline = Deadline(self._clock() + seconds)
        with self._wake:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="deadlines",
                                                daemon=True)
                self._thread.start()
            if self._heap[0][2] is deadline:  # earlier than anything the watchdog waits for
                self._wake.notify()
        return deadline

    def _watch(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                at, _, deadline = self._heap[0]
                wait = at - self._clock()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline._expire()


WATCHDOG = Watchdog()
