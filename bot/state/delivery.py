"""Deliver the outbox through each surface's `Notifier`, each notification once, from any
number of workers.

A worker claims a batch in one short transaction: the rows move from `pending` to `sending`
with a fresh claim token and `claimed_at`. On PostgreSQL the claim selects with
`FOR UPDATE SKIP LOCKED`, so two workers never claim the same row; on SQLite the single
UPDATE runs under the database's write lock, which gives the same guarantee. Marking a row
delivered (or failed) names its claim token, so a worker whose lease ran out cannot overwrite
the outcome of the worker that took the row over. A worker that dies mid-batch leaves rows in
`sending`; once `lease` has passed they are due again. The lease is renewed, under the same
token, just before each post, so a slow batch never posts a row another worker took over.

A post whose answer never came may have been posted all the same, so a row that was tried
before (that one, or one whose worker died after posting) is looked for in its conversation
first (`Notifier.posted_before`): found means delivered, not found means post. Errors no
retry fixes fail the row at once, and `failing` tells the channel, and `ssot notify`, why.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.state import schema
from bot.state.models import Change, Notification
from bot.state.notifier import NotDelivered, Notifier
from bot.state.store import SLACK, StateStore, aware, utcnow

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)
BATCH = 20
MAX_BACKOFF = dt.timedelta(hours=1)
# A post that may have gone out is looked for from a little before its row was written, for
# clocks that disagree with the platform's.
CLOCK_MARGIN = dt.timedelta(minutes=5)


@dataclass
class DeliveryReport:
    """What one delivery run did: posted, failed this time, and still waiting."""

    delivered: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(store: StateStore, notifiers: Notifier | Mapping[str, Notifier],
                    limit: int = 100,
                    worker: str | None = None, docs_base_url: str | None = None,
                    now: dt.datetime | None = None, lease: dt.timedelta = LEASE,
                    due_only: bool = True) -> DeliveryReport:
    """Post up to `limit` due notifications; `due_only=False` also takes rows in backoff.

    Only rows for the surfaces in `notifiers` are claimed: a surface that is not configured
    here keeps its rows for a process where it is.
    """
    notifiers = _by_surface(notifiers)
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    started = (now or utcnow()).astimezone(dt.UTC)
    report = DeliveryReport()
    attempted = 0
    while attempted < limit:
        batch = claim(store, worker, min(BATCH, limit - attempted), started, lease, due_only,
                      surfaces=tuple(notifiers))
        if not batch:
            break
        attempted += len(batch)
        deliver(store, notifiers, batch, docs_base_url, started, report)
    for surface in notifiers:
        counts = store.outbox_counts(surface=surface)
        report.pending += counts.get("pending", 0) + counts.get("sending", 0)
    return report


def deliver(store: StateStore, notifiers: Notifier | Mapping[str, Notifier],
            batch: list[Notification], docs_base_url: str | None = None,
            started: dt.datetime | None = None,
            report: DeliveryReport | None = None) -> DeliveryReport:
    """Post claimed notifications, skipping any whose claim another worker has taken over."""
    notifiers = _by_surface(notifiers)
    report = report or DeliveryReport()
    for notification in batch:
        _deliver(store, notifiers[notification.surface], notification, docs_base_url, report,
                 started or utcnow())
    return report


def _by_surface(notifiers: Notifier | Mapping[str, Notifier]) -> dict[str, Notifier]:
    if isinstance(notifiers, Mapping):
        return dict(notifiers)
    return {notifiers.surface: notifiers}


def claim(store: StateStore, worker: str, size: int, started: dt.datetime,
          lease: dt.timedelta = LEASE, due_only: bool = True,
          surfaces: tuple[str, ...] = (SLACK,)) -> list[Notification]:
    """Move up to `size` due rows of `surfaces` to `sending` under a new claim token."""
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
    ids = (select(o.c.id).where(o.c.surface.in_(surfaces), due).order_by(o.c.id).limit(size)
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


def _deliver(store: StateStore, notifier: Notifier, notification: Notification,
             docs_base_url: str | None, report: DeliveryReport, started: dt.datetime) -> None:
    if not _mark(store, notification, keep_claim=True, claimed_at=max(started, utcnow())):
        return  # slow batch: the lease ran out and another worker took this one over
    try:
        # Tried before: that attempt may have been posted although no answer came back.
        posted = (notifier.posted_before(notification, _created(store, notification))
                  if notification.attempts > 1 else None)
        if posted is None:
            posted = notifier.post(notification, docs_base_url)
        else:
            log.info("notification %s was posted to %s by an earlier attempt", notification.id,
                     notification.channel)
    except NotDelivered as exc:
        _failed(store, notification, str(exc), exc.permanent, report, started)
    else:
        _mark(store, notification, status="delivered", delivered_at=utcnow(), posted_id=posted,
              last_error=None)
        report.delivered += 1


def _created(store: StateStore, notification: Notification) -> dt.datetime:
    o = schema.outbox
    with store.reading() as conn:
        created = conn.scalar(select(o.c.created_at).where(o.c.id == notification.id))
    return (aware(created) or utcnow()) - CLOCK_MARGIN


def _failed(store: StateStore, notification: Notification, error: str, permanent: bool,
            report: DeliveryReport, started: dt.datetime) -> None:
    log.info("notification %s to %s failed (attempt %s): %s", notification.id,
             notification.channel, notification.attempts, error)
    report.failed += 1
    report.errors.append(f"{notification.channel}: {notification.change.name}: {error}")
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
                surface: str = SLACK) -> list[tuple[str, str, int, str | None]]:
    """Rows not delivered yet: (channel, status, attempts, last error), oldest first."""
    o = schema.outbox
    query = (select(o.c.channel, o.c.status, o.c.attempts, o.c.last_error)
             .where(o.c.surface == surface, o.c.status != "delivered")
             .order_by(o.c.id).limit(limit))
    with store.reading() as conn:
        return [tuple(r) for r in conn.execute(query)]


def failing(store: StateStore, channel: str | None = None, *,
            surface: str = SLACK) -> dict[str, str]:
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
        return {row.channel: row.last_error or "unknown error" for row in conn.execute(query)}
