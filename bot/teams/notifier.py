"""Definition-change notifications posted to Teams conversations through the Bot Connector.

The conversation reference (service URL, conversation id, tenant) is stored when the bot is
installed or first spoken to. A 429 or 5xx is retried here, honouring Retry-After, a few
times; then the row goes back to the outbox with backoff, so nothing is lost while Teams is
unreachable. The Bot Connector keeps no history a bot can read, so unlike Slack a post whose
answer never came cannot be looked up: it is retried (see `posted_before`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.state.models import Notification
from bot.state.notifier import NotDelivered
from bot.state.store import StateStore
from bot.teams.notification_card import notification_card
from bot.teams.sdk import CONNECTOR_TIMEOUT_S, import_sdk

log = logging.getLogger(__name__)
# Answers no retry changes: the conversation is gone or the bot was removed from it.
REMEDIES = {
    403: "the bot was removed from this conversation: add the ssot app again",
    404: "the conversation no longer exists: subscribe again where the bot is installed",
    400: "Teams refused the message",
}
MAX_WAIT_S = 60.0  # the longest Retry-After honoured in one attempt


class TeamsNotifier:
    """The outbox's way into Teams channels and chats."""

    surface = "teams"

    def __init__(self, store: StateStore, token: Callable[..., Any] | None = None,
                 retries: int = 3, backoff_s: float = 0.5) -> None:
        self.store = store
        self.token = token  # the app's token provider; None in TEAMS_DEV mode
        self.retries = retries
        self.backoff_s = backoff_s
        import_sdk()

    def post(self, notification: Notification, docs_base_url: str | None) -> str:
        """Post the notification into its conversation; the new activity's id."""
        ref = self.store.conversation(self.surface, notification.channel)
        if ref is None:
            raise NotDelivered("the bot has not been added to this conversation yet "
                               "(no conversation reference is stored)")
        card = notification_card(notification.change, docs_base_url)
        for attempt in range(self.retries + 1):
            try:
                return asyncio.run(self._send(ref.service_url, notification.channel, card))
            except _Retry as retry:
                if attempt == self.retries:
                    raise NotDelivered(retry.why) from None
                time.sleep(min(retry.after_s or self.backoff_s * 2 ** attempt, MAX_WAIT_S))
        raise AssertionError("unreachable")

    def posted_before(self, notification: Notification, since: dt.datetime) -> str | None:
        """Teams keeps no history a bot may read: an unanswered post is posted again."""
        return None

    async def _send(self, service_url: str, conversation_id: str, card: Any) -> str:
        import httpx
        from microsoft_teams.api import ApiClient, MessageActivityInput
        from microsoft_teams.common import Client, ClientOptions

        # A client per run: the SDK's connection pool belongs to the loop that made it.
        client = Client(ClientOptions(timeout=CONNECTOR_TIMEOUT_S))
        try:
            api = ApiClient(service_url, client, token_provider=self.token)
            sent = await api.conversations.create_activity(
                conversation_id, MessageActivityInput().add_card(card))
            return str(sent.id or "")
        except httpx.HTTPStatusError as exc:
            raise _translated(exc.response) from None
        except (httpx.TransportError, OSError) as exc:
            raise _Retry(f"no answer from Teams ({type(exc).__name__}: {exc})") from None
        finally:
            await client.http.aclose()


class _Retry(Exception):
    def __init__(self, why: str, after_s: float | None = None) -> None:
        super().__init__(why)
        self.why, self.after_s = why, after_s


def _translated(response: Any) -> Exception:
    status = response.status_code
    if status == 429 or status >= 500:
        after = response.headers.get("retry-after", "")
        return _Retry(f"HTTP {status} from Teams",
                      float(after) if after.replace(".", "", 1).isdigit() else None)
    remedy = REMEDIES.get(status)
    return NotDelivered(f"HTTP {status} -- {remedy}" if remedy else f"HTTP {status}",
                        permanent=True)
