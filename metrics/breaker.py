"""Bounded waits on the warehouse, and a memory of its failures (a circuit breaker).

Drivers differ in what they bound: libpq has a connect timeout and a server-side statement
timeout, but neither helps when a server accepts the connection and then never answers. So a
warehouse call runs on a worker thread and the caller waits at most `timeout_s` for it.
DuckDB has no timeout either, but it runs in-process and can interrupt its own query: its
calls run on the caller's thread, and a watchdog interrupts one that outlasts `timeout_s`
(`call_here`). A call that failed or timed out opens the breaker: for
`cooldown_s` every call fails at once with the same reason, then one call is let through as
a probe; the breaker closes when a probe succeeds. A person therefore waits at most
`timeout_s` once, and not at all while the warehouse is known to be down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from metrics.deadlines import WATCHDOG, Deadline, Watchdog
from metrics.errors import WarehouseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
# Calls stuck on a black-holed server keep their threads; the breaker stops new ones piling up.
WORKERS = 8


class Breaker:
    """Runs warehouse calls with a deadline, failing fast while the warehouse is known down."""

    def __init__(self, timeout_s: float = 5.0, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 watchdog: Watchdog = WATCHDOG) -> None:
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._reason: str | None = None
        self._probing = False
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="warehouse")
        self._watchdog = watchdog

    @property
    def is_open(self) -> bool:
        """Whether calls are failing fast because the last one failed."""
        return self._reason is not None

    @property
    def reason(self) -> str | None:
        """Why the warehouse was last seen failing (None while it answers)."""
        return self._reason

    def call(self, work: Callable[[], T]) -> T:
        """`work()`'s result, or WarehouseUnavailable within `timeout_s` whatever happens."""
        probe = self._admit()
        try:
            result = self._pool.submit(work).result(timeout=self.timeout_s)
        except FutureTimeout:
            raise self._trip(f"no reply within {self.timeout_s:g} s") from None
        except Exception as exc:
            raise self._failed(exc) from None
        finally:
            self._probed(probe)
        self._close()
        return result

    def call_here(self, work: Callable[[Deadline], T]) -> T:
        """`work(deadline)` on this thread, for a driver that can cancel its own query: the
        work arms the deadline with that cancel, and a cancelled call fails as a timeout.

        Saves the hop to a worker thread and back: 0.1 ms on an idle machine and several on
        a busy one, against a small DuckDB metric that takes 1 ms.
        """
        probe = self._admit()
        deadline = self._watchdog.start(self.timeout_s)
        try:
            result = work(deadline)
        except Exception as exc:
            if deadline.expired:
                raise self._trip(f"no reply within {self.timeout_s:g} s") from None
            raise self._failed(exc) from None
        finally:
            deadline.arm(None)
            self._probed(probe)
        self._close()
        return result

    def _failed(self, exc: Exception) -> WarehouseUnavailable:
        if isinstance(exc, WarehouseUnavailable):
            return self._trip(str(exc), exc)
        # Any driver's error type: the answer path must not care.
        log.debug("warehouse call failed", exc_info=exc)
        return self._trip(_first_line(exc), exc)

    def _probed(self, probe: bool) -> None:
        if probe:
            with self._lock:
                self._probing = False

    def _admit(self) -> bool:
        """Let the call through (True if it is the probe), or fail fast while open."""
        with self._lock:
            if self._reason is None:
                return False
            if self._clock() >= self._open_until and not self._probing:
                self._probing = True
                return True
            reason = self._reason
        raise WarehouseUnavailable(_message(reason))

    def _trip(self, reason: str, exc: BaseException | None = None) -> WarehouseUnavailable:
        with self._lock:
            if self._reason is None:
                log.warning("warehouse unavailable (%s); failing fast for %g s", reason,
                            self.cooldown_s)
            self._reason = reason
            self._open_until = self._clock() + self.cooldown_s
        if isinstance(exc, WarehouseUnavailable):
            return exc
        return WarehouseUnavailable(_message(reason))

    def _close(self) -> None:
        if self._reason is None:
            return
        with self._lock:
            if self._reason is not None:
                log.info("warehouse answering again")
            self._reason = None


def _message(reason: str) -> str:
    if reason.startswith("the warehouse"):
        return reason
    return (f"the warehouse did not answer ({reason[:200]}); definitions still work, "
            "metric numbers are unavailable until it is back")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
