"""Writes that must not hold up a reply: unanswered questions and feedback.

They go to one worker thread, after the reply is on its way. A write that fails (the state
store locked by another writer, or briefly gone) is retried with backoff for about a minute,
then dropped with a warning naming what was lost; the person was answered either way.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
MAX_WAITING = 10_000


class Recorder:
    """A queue of small writes, each retried until it lands or its retries run out."""

    def __init__(self, delays_s: tuple[float, ...] = DELAYS_S) -> None:
        self._delays = delays_s
        self._queue: queue.Queue[tuple[Callable[..., object], tuple]] = queue.Queue(MAX_WAITING)
        self._stopping = threading.Event()
        self._pending = 0
        self._settled = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="ssot-recorder", daemon=True)
        self._thread.start()

    def record(self, write: Callable[..., object], *args: object) -> None:
        """Queue `write(*args)`; never blocks and never raises."""
        with self._settled:
            self._pending += 1
        try:
            self._queue.put_nowait((write, args))
        except queue.Full:
            self._done()
            log.warning("too many writes waiting for the state store; dropped %s%r",
                        getattr(write, "__name__", write), args[:1])

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Whether everything queued so far was written (or given up on) within the time."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout_s)

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put((_stop, ()))
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            write, args = self._queue.get()
            if write is _stop:
                return
            try:
                self._write(write, args)
            finally:
                self._done()

    def _done(self) -> None:
        with self._settled:
            self._pending -= 1
            self._settled.notify_all()

    def _write(self, write: Callable[..., object], args: tuple) -> None:
        for delay in (*self._delays, None):
            try:
                write(*args)
                return
            except Exception as exc:
                if delay is None or self._stopping.is_set():
                    log.warning("gave up writing %s%r to the state store: %s",
                                getattr(write, "__name__", write), args[:1], exc)
                    return
                log.info("writing %s failed (%s); retrying in %g s",
                         getattr(write, "__name__", write), str(exc).splitlines()[0], delay)
                self._stopping.wait(delay)


def _stop() -> None:
    """The sentinel that ends the worker."""
