"""Work repeated on a daemon thread until stopped: the running app's sync and refreshers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def every(interval_s: float, work: Callable[[], None], name: str, *,
          first: Callable[[], None] | None = None) -> Callable[[], None]:
    """Run `first` once, then `work` now and every `interval_s`; returns a function to stop.

    A round that raises is logged and the loop goes on: a thread that died quietly would stop
    syncs, notifications or refreshes for good while the app still looked healthy.
    """
    stopping = threading.Event()

    def loop() -> None:
        if first:
            _guarded(first, name)
        while not stopping.is_set():
            _guarded(work, name)
            stopping.wait(interval_s)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=30)

    return stop


def _guarded(work: Callable[[], None], name: str) -> None:
    try:
        work()
    except Exception:
        log.exception("%s: this round failed; trying again next round", name)
