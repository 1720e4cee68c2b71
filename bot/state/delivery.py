"""Deliver the outbox with `chat.postMessage`, each notification once, from any number of workers.

A worker claims a batch in one short transaction: the rows move from `pending` to `sending`
with a fresh claim token and `claimed_at`. On PostgreSQL the claim selects with
`FOR UPDATE SKIP LOCKED`, so two workers never claim the same row; on SQLite the single
UPDATE runs under the database's write lock, which gives the same guarantee. Marking a row
delivered (or failed) names its claim token, so a worker whose lease ran out cannot overwrite
the outcome of the worker that took the row over. A worker that dies mid-batch leaves rows in
`sending`; once `lease` has passed they are due again. The lease is renewed, under the same
token, just before each post, so a slow batch never posts a row another worker took over.

A post whose answer never came (a timeout, a dropped connection) may have been posted all
the same. So the client never re-posts on its own, and a row that was tried before (that
one, or one whose worker died after posting) is looked up in its channel's history first,
by the outbox id in each message's metadata: found means delivered, not found means post.
Errors no retry fixes (`not_in_channel`, `channel_not_found`, ...) fail the row at once, and
`failing` tells the channel, and `ssot notify`, why.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.metadata import Metadata
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.slack.keepalive import KeepAliveWebClient
from bot.slack.notification_blocks import notification_message
from bot.state import schema
from bot.state.models import Change, Notification
from bot.state.store import SLACK, StateStore, aware, utcnow

log = logging.getLogger(__name__)
# The rows this module posts: the Slack channels'. Teams rows wait for Teams' notifier.
SURFACE = SLACK

LEASE = dt.timedelta(minutes=10)
BATCH = 20
MAX_BACKOFF = dt.timedelta(hours=1)
# Errors that no retry will fix: the row is marked failed (and kept) instead of pending.
PERMANENT = frozenset({
    "not_in_channel", "channel_not_found", "is_archived", "invalid_blocks", "msg_too_long",
    "msg_blocks_too_long", "no_text", "invalid_arguments", "restricted_action",
    "cannot_reply_to_message", "invalid_metadata_format", "invalid_metadata_schema",
    "metadata_too_large",
})
# What people in the channel can do about an error that failed its notifications.
REMEDIES = {
    "not_in_channel": "invite the bot with /invite @ssot",
    "channel_not_found": "the channel was deleted, or it is private: /invite @ssot there",
    "is_archived": "the channel is archived: unarchive it, or /ssot unsubscribe here",
    "restricted_action": "a workspace setting stops the bot posting here: ask a Slack admin",
}
EVENT_TYPE = "ssot_definition_change"
# How far back a post that may have gone out is looked for: pages of 200 messages, and a
# margin for clocks that disagree with Slack's.
HISTORY_PAGES = 10
CLOCK_MARGIN = dt.timedelta(minutes=5)


@dataclass
class DeliveryReport:
    """What one delivery run did: posted, failed this time, and still waiting."""

    delivered: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


def notification_client(token: str, base_url: str, retries: int = 3, backoff_s: float = 0.5,
                        timeout_s: float = 15.0) -> WebClient:
    """A WebClient that waits out 429s (Retry-After), retries 5xx, and connection errors on reads.

    A post whose connection failed is not retried here: it may have been posted, and only a
    look at the channel (see `deliver`) can tell.
    """
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_s)
    return KeepAliveWebClient(token=token, base_url=base_url, timeout=timeout_s, retry_handlers=[
        RateLimitErrorRetryHandler(max_retry_count=retries),
        ServerErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
        _ReadRetryHandler(max_retry_count=retries, interval_calculator=backoff),
    ])


class _ReadRetryHandler(ConnectionErrorRetryHandler):
    """Connection-error retries for every call but `chat.postMessage`."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return (not request.url.endswith("/chat.postMessage")
                and super()._can_retry(state=state, request=request, response=response,
                                       error=error))


def deliver_pending(store: StateStore, client: WebClient, limit: int = 100,
                    worker: str | None = None, docs_base_url: str | None = None,
                    now: dt.datetime | None = None, lease: dt.timedelta = LEASE,
                    due_only: bool = True) -> DeliveryReport:
    """Post up to `limit` due Slack notifications; `due_only=False` also takes rows in backoff."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    started = (now or utcnow()).astimezone(dt.UTC)
    report = DeliveryReport()
    attempted = 0
    while attempted < limit:
        batch = claim(store, worker, min(BATCH, limit - attempted), started, lease, due_only,
                      surface=SURFACE)
        if not batch:
            break
        attempted += len(batch)
        deliver(store, client, batch, docs_base_url, started, report)
    counts = store.outbox_counts(surface=SURFACE)
    report.pending = counts.get("pending", 0) + counts.get("sending", 0)
    return report


def deliver(store: StateStore, client: WebClient, batch: list[Notification],
            docs_base_url: str | None = None, started: dt.datetime | None = None,
            report: DeliveryReport | None = None) -> DeliveryReport:
    """Post claimed notifications, skipping any whose claim another worker has taken over."""
    report = report or DeliveryReport()
    for notification in batch:
        _deliver(store, client, notification, docs_base_url, report, started or utcnow())
    return report


def claim(store: StateStore, worker: str, size: int, started: dt.datetime,
          lease: dt.timedelta = LEASE, due_only: bool = True, *,
          surface: str = SURFACE) -> list[Notification]:
    """Move up to `size` due rows of a surface to `sending` under a new claim token."""
    o = schema.outbox
    due = store.due_filter(started, lease)
    if not due_only:
        # Everything pending, except rows this run already tried (their claimed_at is newer).
        due = or_(due, and_(o.c.status == "pending",
                            or_(o.c.claimed_at.is_(None), o.c.claimed_at < started)))
    token = uuid.uuid4().hex
    # The lease runs from the real moment of this claim, not from the start of a long run
    # (else another worker could take over rows this one is about to post); never earlier
    # than `started`, which is how a run recognises, and skips, rows it already tried.
    claimed_at = max(started, utcnow())
    ids = (select(o.c.id).where(o.c.surface == surface, due).order_by(o.c.id).limit(size)
           .with_for_update(skip_locked=True))
    stmt = (update(o).where(o.c.id.in_(ids.scalar_subquery()))
            .values(status="sending", claim=token, claimed_by=worker[:100],
                    claimed_at=claimed_at, attempts=o.c.attempts + 1)
            .returning(o.c.id, o.c.surface, o.c.channel, o.c.payload, o.c.attempts))
    with store.transaction() as conn:
        rows = conn.execute(stmt).all()
    return [Notification(id=r.id, surface=r.surface, channel=r.channel, attempts=r.attempts,
                         claim=token, change=Change.model_validate_json(r.payload))
            for r in sorted(rows, key=lambda r: r.id)]


def _deliver(store: StateStore, client: WebClient, notification: Notification,
             docs_base_url: str | None, report: DeliveryReport, started: dt.datetime) -> None:
    if not _mark(store, notification, keep_claim=True, claimed_at=max(started, utcnow())):
        return  # slow batch: the lease ran out and another worker took this one over
    try:
        # Tried before: that attempt may have been posted although no answer came back.
        ts = _posted_before(store, client, notification) if notification.attempts > 1 else None
        if ts is None:
            ts = _post(client, notification, docs_base_url)
        else:
            log.info("notification %s was posted to %s by an earlier attempt", notification.id,
                     notification.channel)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        _failed(store, notification, error, error in PERMANENT, report, started)
    except (SlackClientError, OSError) as exc:
        _failed(store, notification, f"no answer ({type(exc).__name__}: {exc}); the channel "
                "is checked before it is posted again", False, report, started)
    else:
        _mark(store, notification, status="delivered", delivered_at=utcnow(), posted_id=ts,
              last_error=None)
        report.delivered += 1


def _post(client: WebClient, notification: Notification, docs_base_url: str | None) -> str:
    """Post the notification; its message ts."""
    blocks, text = notification_message(notification.change, docs_base_url)
    response = client.chat_postMessage(
        channel=notification.channel, text=text, blocks=blocks, unfurl_links=False,
        metadata=Metadata(event_type=EVENT_TYPE, event_payload=_payload(notification)))
    return str(response.get("ts") or "")


def _payload(notification: Notification) -> dict:
    change = notification.change
    return {"notification_id": notification.id, "definition_id": change.definition_id,
            "kind": change.kind, "version": change.version}


def _posted_before(store: StateStore, client: WebClient,
                   notification: Notification) -> str | None:
    """The ts of this notification's message in its channel, if an earlier attempt posted it."""
    o = schema.outbox
    with store.reading() as conn:
        created = conn.scalar(select(o.c.created_at).where(o.c.id == notification.id))
    oldest = (aware(created) or utcnow()) - CLOCK_MARGIN
    wanted, cursor = _payload(notification), None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=notification.channel, oldest=f"{oldest.timestamp():.6f}", limit=200,
            include_all_metadata=True, cursor=cursor)
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == EVENT_TYPE and all(
                    payload.get(k) == v for k, v in wanted.items()):
                return str(message.get("ts") or "")
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def _failed(store: StateStore, notification: Notification, error: str, permanent: bool,
            report: DeliveryReport, started: dt.datetime) -> None:
    log.info("notification %s to %s failed (attempt %s): %s", notification.id,
             notification.channel, notification.attempts, error)
    report.failed += 1
    report.errors.append(f"{notification.channel}: {notification.change.name}: "
                         f"{explained(error)}")
    retry_at = started + min(MAX_BACKOFF, dt.timedelta(seconds=5 * 2 ** notification.attempts))
    _mark(store, notification, status="failed" if permanent else "pending",
          next_attempt_at=retry_at, last_error=error[:1000])


def _mark(store: StateStore, notification: Notification, keep_claim: bool = False,
          **values) -> bool:
    """Renew the lease or record the outcome, only if this worker still holds the claim."""
    o = schema.outbox
    if not keep_claim:
        values["claim"] = None
    with store.transaction() as conn:
        done = conn.execute(update(o).where(
            o.c.id == notification.id, o.c.claim == notification.claim,
            o.c.status == "sending").values(**values))
    return done.rowcount == 1


def undelivered(store: StateStore, limit: int = 20, *,
                surface: str = SURFACE) -> list[tuple[str, str, int, str | None]]:
    """Rows not delivered yet: (channel, status, attempts, last error), oldest first."""
    o = schema.outbox
    query = (select(o.c.channel, o.c.status, o.c.attempts, o.c.last_error)
             .where(o.c.surface == surface, o.c.status != "delivered")
             .order_by(o.c.id).limit(limit))
    with store.reading() as conn:
        return [tuple(r) for r in conn.execute(query)]


def failing(store: StateStore, channel: str | None = None, *,
            surface: str = SURFACE) -> dict[str, str]:
    """Channels whose latest failed notification failed for good, with why: {channel: why}.

    A channel stops failing once a later notification there is delivered.
    """
    o, later = schema.outbox, aliased(schema.outbox)
    delivered_since = exists().where(later.c.surface == o.c.surface,
                                     later.c.channel == o.c.channel,
                                     later.c.status == "delivered", later.c.id > o.c.id)
    newest = (select(func.max(o.c.id))
              .where(o.c.surface == surface, o.c.status == "failed", ~delivered_since)
              .group_by(o.c.channel))
    if channel is not None:
        newest = newest.where(o.c.channel == channel)
    query = select(o.c.channel, o.c.last_error).where(o.c.id.in_(newest)).order_by(o.c.channel)
    with store.reading() as conn:
        return {row.channel: explained(row.last_error or "unknown error")
                for row in conn.execute(query)}


def explained(error: str) -> str:
    """An error, with what people can do about it when they can."""
    remedy = REMEDIES.get(error)
    return f"{error} -- {remedy}" if remedy else error
