"""Answer each Slack request once, though Slack redelivers events and a request can be replayed.

Events are claimed in the state store by their event id. A redelivery (it carries
X-Slack-Retry-Num) waits for its claim and is acknowledged without work if the event was
already answered. A first delivery is almost never contested, so its claim, a database write,
runs beside the answer instead of in front of the acknowledgement, and the answer is posted
only if it won.

Slash commands, buttons and shortcuts carry no id of their own, but a signed request is
unique by its signature: the same request sent again within its five minutes (a replay) has
the same one. They are claimed by signature the same way, beside the answer, and their
`say` and `respond` post only if the claim was this request's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse

from bot.state.store import StateStore

log = logging.getLogger(__name__)
CLAIM = "event_claim"
CLAIM_KEY = "claim_key"
# How long an answer waits on its claim before it is posted anyway (the store may be locked).
CLAIM_WAIT_S = 1.5


def once_per_event(store: StateStore, claims: ThreadPoolExecutor) -> Callable[..., BoltResponse]:
    """Bolt middleware that claims every `event_callback` by its event id, the rest by signature."""

    def middleware(body: dict, request: BoltRequest, context: BoltContext,
                   next: Callable[[], BoltResponse]) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        event_id = event_id if isinstance(event_id, str) else None
        if event_id and request.headers.get("x-slack-retry-num"):
            if not store.claim_event(event_id):
                log.debug("event %s already handled; acknowledging the retry", event_id)
                return BoltResponse(status=200, body="")
            return next()
        key = event_id or _signature_key(body, request)
        if key:
            context[CLAIM_KEY] = key
            context[CLAIM] = claims.submit(store.claim_event, key)
            _answer_once(context)
        return next()

    return middleware


def first_to_answer(context: BoltContext) -> bool:
    """Whether this request may post its answer: its claim (if any) was ours."""
    claim: Future[bool] | None = context.get(CLAIM)
    if claim is None:
        return True
    try:
        return claim.result(timeout=CLAIM_WAIT_S)
    except FutureTimeout:
        # The store is stuck behind another writer. A replay racing this very request is far
        # less likely than a person waiting in vain, so answer (once: the claim is dropped).
        log.info("the claim of %s is taking too long; answering anyway", _shown(context))
        context.pop(CLAIM, None)
        return True
    except Exception as exc:
        # Without the store we cannot tell; Slack got its ack and will not redeliver, so an
        # answer is better than none. (Said once: the request's later posts need not ask.)
        log.warning("could not claim %s (%s); answering anyway", _shown(context),
                    (str(exc).splitlines() or [type(exc).__name__])[0])
        context.pop(CLAIM, None)
        return True


def _shown(context: BoltContext) -> str:
    """The claimed request for the log: an event id, never a signature."""
    key = str(context.get(CLAIM_KEY) or "")
    return "a signed request" if key.startswith("sig:") else key or "the request"


def _signature_key(body: dict, request: BoltRequest) -> str | None:
    """`sig:<timestamp>:<signature>` for a signed request that may be answered, else None."""
    if request.mode != "http" or body.get("type") == "url_verification":
        return None
    signature = request.headers.get("x-slack-signature", [""])[0]
    stamp = request.headers.get("x-slack-request-timestamp", [""])[0]
    return f"sig:{stamp}:{signature}" if signature and stamp else None


def _answer_once(context: BoltContext) -> None:
    """Make the request's `say` and `respond` post only if its claim was won."""
    for name, send in (("say", context.say), ("respond", context.respond)):
        if send is not None:
            context[name] = _if_first(send, context)


def _if_first(send: Callable[..., Any], context: BoltContext) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if first_to_answer(context):
            return send(*args, **kwargs)
        log.debug("request %s was answered already; not answering its replay",
                  context.get(CLAIM_KEY))
        return None

    return guarded
