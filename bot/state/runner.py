"""The running app's background loop: sync the definitions, then deliver the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.periodic import every
from bot.settings import Settings
from bot.state.delivery import deliver_pending, notification_client
from bot.state.errors import SyncRefused
from bot.state.store import StateStore
from bot.state.sync import sync

log = logging.getLogger(__name__)


def run_once(settings: Settings, store: StateStore, client: WebClient) -> None:
    """One round: an invalid glossary or a database hiccup is logged, never fatal."""
    try:
        report = sync(store, settings.glossary_dir, settings.metrics_dir, settings.notify_channel)
        if report.changes and not report.baseline:
            log.info("sync: %d change(s), %d notification(s) queued", len(report.changes),
                     report.queued)
    except SyncRefused as exc:
        log.warning("sync skipped, the definitions have problems: %s", exc)
    except SQLAlchemyError as exc:
        log.warning("sync failed, will retry: %s", exc)
    try:
        delivery = deliver_pending(store, client, docs_base_url=settings.docs_base_url)
        if delivery.failed:
            log.warning("delivery: %d failed, %d still pending", delivery.failed,
                        delivery.pending)
    except SQLAlchemyError as exc:
        log.warning("delivery failed, will retry: %s", exc)


def start_background(settings: Settings, store: StateStore,
                     client: WebClient) -> Callable[[], None]:
    """Sync and deliver now and every `sync_interval_s`; returns a function that stops it."""
    # Delivery waits out rate limits and retries server errors; the app's own client may not.
    client = notification_client(client.token or "", client.base_url)
    return every(settings.sync_interval_s, lambda: run_once(settings, store, client), "ssot-sync")
