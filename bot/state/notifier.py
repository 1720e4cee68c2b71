"""How the outbox reaches a chat platform: one `Notifier` per surface, no platform in here.

    NotDelivered          a post that did not go through
      permanent=True      no retry will fix it (the bot was removed from the channel, ...)
      permanent=False     retried later with backoff (rate limits, 5xx, no answer at all)
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.state.models import Notification


class NotDelivered(Exception):
    """A post that did not go through; `str()` says why, with a remedy when there is one."""

    def __init__(self, why: str, permanent: bool = False) -> None:
        super().__init__(why)
        self.permanent = permanent


class Notifier(Protocol):
    """Posts one notification to a conversation on one surface."""

    surface: str

    def post(self, notification: Notification, docs_base_url: str | None) -> str:
        """Post it; the posted message's id. Raises NotDelivered.

        A post whose answer never came must raise (not retry on its own): it may have been
        posted, and only `posted_before` can tell.
        """
        ...

    def posted_before(self, notification: Notification, since: dt.datetime) -> str | None:
        """The id of this notification's message if an earlier attempt posted it (since
        `since`), else None. Raises NotDelivered when the conversation cannot be read."""
        ...
