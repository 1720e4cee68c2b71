"""The running app's background loop: sync the definitions, serve them, then deliver.

One loop owns all three, in that order, so a notification is never delivered before the
running app answers with the definition it announces.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError

from bot.health import Health
from bot.periodic import every
from bot.services import Services
from bot.settings import Settings
from bot.state.delivery import deliver_pending
from bot.state.errors import SyncRefused
from bot.state.notifier import Notifier
from bot.state.store import StateStore
from bot.state.sync import sync

log = logging.getLogger(__name__)
# Slack retries an event three times within minutes and refuses signed requests older than
# five: a claim kept a day guards every redelivery with room to spare.
CLAIMS_KEPT = dt.timedelta(days=1)


Notifiers = Notifier | Mapping[str, Notifier]


def run_once(settings: Settings, store: StateStore, notifiers: Notifiers,
             services: Services | None = None, health: Health | None = None) -> None:
    """One round: an invalid glossary or a database hiccup is logged, never fatal."""
    health = health or Health()
    try:
        report = sync(store, settings.glossary_dir, settings.metrics_dir, settings.notify_channel)
        health.synced()
        health.refused = None
        if report.changes and not report.baseline:
            log.info("sync: %d change(s), %d notification(s) queued", len(report.changes),
                     report.queued)
    except SyncRefused as exc:
        # The files were read and judged: the sync itself worked, it just records nothing.
        health.synced()
        level = logging.DEBUG if str(exc) == health.refused else logging.WARNING
        health.refused = str(exc)
        log.log(level, "sync skipped, the definitions have problems: %s", exc)
    except SQLAlchemyError as exc:
        health.sync_failed(f"the state store: {str(exc).splitlines()[0][:200]}")
        log.warning("sync failed, will retry: %s", exc)
    except Exception as exc:
        health.sync_failed(f"{type(exc).__name__}: {exc}"[:200])
        log.exception("sync failed, will retry")
    if services is not None:
        reloaded = services.reload()
        if reloaded.accepted and reloaded.changed:
            log.info("now serving the changed definitions")
    try:
        delivery = deliver_pending(store, notifiers, docs_base_url=settings.docs_base_url)
        if delivery.failed:
            log.warning("delivery: %d failed, %d still pending", delivery.failed,
                        delivery.pending)
    except SQLAlchemyError as exc:
        log.warning("delivery failed, will retry: %s", exc)
    try:
        store.forget_claims(CLAIMS_KEPT)
    except SQLAlchemyError as exc:
        log.warning("could not drop old event claims, will retry: %s", exc)


def start_background(settings: Settings, store: StateStore, notifiers: Notifiers,
                     services: Services | None = None,
                     health: Health | None = None) -> Callable[[], None]:
    """Sync, reload and deliver now and every `sync_interval_s`; returns a function to stop."""
    return every(settings.sync_interval_s,
                 lambda: run_once(settings, store, notifiers, services, health), "ssot-sync")
