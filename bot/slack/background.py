"""Acknowledge first, work after: Slack retries anything not acknowledged within 3 seconds.

Every listener is `acked(background, work)`: Bolt calls it, it acks, and `work` runs on a
small pool once no request is being dispatched and no burst of requests is arriving (or after
`yield_s` at the latest), so a burst is acknowledged before any answer competes with it for
the interpreter. A request on its own is answered at once.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Args, BoltResponse

from bot.services import SORRY

log = logging.getLogger(__name__)


class Background:
    """A bounded pool for the work behind acknowledgements, which yields to acknowledgements."""

    def __init__(self, workers: int = 4, yield_s: float = 1.0, burst_s: float = 0.02) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="slack-work")
        self._yield_s = yield_s
        # Three or more requests this close together are a burst: answers wait until it passes.
        # (Two is a person asking twice quickly, and is not kept waiting.)
        self._burst_s = burst_s
        self._dispatching = 0
        self._arrivals: deque[float] = deque(maxlen=8)
        self._quiet = threading.Condition()

    def middleware(self, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Bolt middleware counting the requests being dispatched (the acks in progress)."""
        with self._quiet:
            self._dispatching += 1
            self._arrivals.append(time.monotonic())
        try:
            return next()
        finally:
            with self._quiet:
                self._dispatching -= 1
                if not self._dispatching:
                    self._quiet.notify_all()

    def submit(self, work: Callable[..., None], kwargs: dict,
               apologise: Callable[[], None] | None = None) -> None:
        """Run `work(**kwargs)` soon, after the acknowledgements in flight.

        If it fails, `apologise` tells the person (nobody should wait on a reply that will
        never come) and the cause goes to the log.
        """
        self._pool.submit(self._run, work, kwargs, apologise)

    def _run(self, work: Callable[..., None], kwargs: dict,
             apologise: Callable[[], None] | None = None) -> None:
        self._wait_for_quiet()
        try:
            work(**kwargs)
        except Exception:
            # The pool is the outermost frame of this work: without this the error is lost.
            log.exception("Slack listener %s failed", getattr(work, "__name__", work))
            if apologise is not None:
                try:
                    apologise()
                except Exception:
                    log.exception("could not apologise for the failed %s",
                                  getattr(work, "__name__", work))

    def _wait_for_quiet(self) -> None:
        deadline = time.monotonic() + self._yield_s
        with self._quiet:
            while (now := time.monotonic()) < deadline:
                if self._dispatching:
                    self._quiet.wait(deadline - now)
                elif sum(now - t < self._burst_s for t in self._arrivals) > 2:
                    self._quiet.wait(min(self._burst_s / 4, deadline - now))
                else:
                    return

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def acked(background: Background, work: Callable[..., None]) -> Callable[[Args], None]:
    """A Bolt listener that acks, then runs `work` with the arguments it names (as Bolt would)."""
    names = list(inspect.signature(work).parameters)

    def listener(args: Args) -> None:
        args.ack()
        background.submit(work, {name: getattr(args, name) for name in names},
                          lambda: apologise(args))

    listener.__name__ = f"acked_{work.__name__}"
    return listener


def apologise(args: Args) -> None:
    """The last resort when a listener failed: a short apology where the answer would go.

    Commands, buttons and shortcuts answer through their response_url; a mention or a DM is
    a question by definition. Other channel messages may not have been questions at all, so
    they get nothing rather than an apology nobody asked for.
    """
    if args.context.response_url:
        args.respond(response_type="ephemeral", replace_original=False, text=SORRY)
        return
    event = args.event or {}
    if args.say is None or not event.get("channel"):
        return
    if event.get("type") == "app_mention":
        args.say(text=SORRY, thread_ts=event.get("thread_ts") or event.get("ts"))
    elif event.get("type") == "message" and event.get("channel_type") == "im":
        args.say(text=SORRY, thread_ts=event.get("thread_ts"))
