"""Answers yield to a burst of acknowledgements; a request on its own is answered at once."""

from __future__ import annotations

import time

from slack_bolt import BoltResponse

from bot.slack.background import Background


def request(background: Background, started: list, n: int) -> None:
    """One request as Bolt runs it: through the middleware, its answer submitted on the way."""

    def listener() -> BoltResponse:
        background.submit(lambda: started.append((n, time.monotonic())), {})
        return BoltResponse(status=200, body="")

    background.middleware(listener)


def test_a_request_on_its_own_is_answered_at_once():
    background = Background(workers=2, yield_s=5.0, burst_s=0.5)
    started: list = []
    sent = time.monotonic()
    request(background, started, 0)
    background.shutdown()
    [(_, at)] = started
    assert at - sent < 1.0  # not held back for yield_s


def test_answers_wait_until_a_burst_of_requests_has_passed():
    background = Background(workers=2, yield_s=5.0, burst_s=0.5)
    started: list = []
    for n in range(12):
        request(background, started, n)
        last = time.monotonic()
        time.sleep(0.02)
    background.shutdown()
    assert sorted(n for n, _ in started) == list(range(12))  # every answer ran
    # The first two came before there was a burst; every later one waited for its end.
    assert all(at > last for n, at in started if n >= 2)
    assert max(at for _, at in started) - last < 2.0  # and then ran, well before yield_s
