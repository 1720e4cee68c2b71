"""Work repeated on a daemon thread until stopped: the running app's sync and refreshers."""

from __future__ import annotations

import threading
from collections.abc import Callable


def every(interval_s: float, work: Callable[[], None], name: str, *,
          first: Callable[[], None] | None = None) -> Callable[[], None]:
    """Run `first` once, then `work` now and every `interval_s`; returns a function to stop."""
    stopping = threading.Event()

    def loop() -> None:
        if first:
            first()
        while not stopping.is_set():
            work()
            stopping.wait(interval_s)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=30)

    return stop
