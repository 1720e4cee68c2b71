"""Answer each Slack event once, though Slack redelivers one it thinks we missed.

Event ids are claimed in the state store. A redelivery (it carries X-Slack-Retry-Num) waits
for its claim and is acknowledged without work if the event was already answered. A first
delivery is almost never contested, so its claim, a database write, runs beside the answer
instead of in front of the acknowledgement, and the answer is posted only if it won.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from slack_bolt import BoltContext, BoltRequest, BoltResponse

from bot.state.store import StateStore

log = logging.getLogger(__name__)
CLAIM = "event_claim"


def once_per_event(store: StateStore, claims: ThreadPoolExecutor) -> Callable[..., BoltResponse]:
    """Bolt middleware that claims every `event_callback` by its event id."""

    def middleware(body: dict, request: BoltRequest, context: BoltContext,
                   next: Callable[[], BoltResponse]) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        if request.headers.get("x-slack-retry-num"):
            if not store.claim_event(event_id):
                log.debug("event %s already handled; acknowledging the retry", event_id)
                return BoltResponse(status=200, body="")
        else:
            context[CLAIM] = claims.submit(store.claim_event, event_id)
        return next()

    return middleware


def first_to_answer(context: BoltContext) -> bool:
    """Whether this request may post its answer: its event claim (if any) was ours."""
    claim: Future[bool] | None = context.get(CLAIM)
    if claim is None:
        return True
    try:
        return claim.result()
    except Exception:
        # Without the store we cannot tell; Slack got its ack and will not redeliver, so an
        # answer is better than none.
        log.warning("could not claim the event; answering anyway", exc_info=True)
        return True
