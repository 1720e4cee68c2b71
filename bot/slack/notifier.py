"""Definition-change notifications posted with `chat.postMessage`, found again by metadata.

A post whose answer never came (a timeout, a dropped connection) may have been posted all
the same. So the client never re-posts on its own, and a row tried before is looked up in
its channel's history first, by the outbox id in each message's metadata.
"""

from __future__ import annotations

import datetime as dt

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

from bot.slack.keepalive import KeepAliveWebClient
from bot.slack.notification_blocks import notification_message
from bot.state.models import Notification
from bot.state.notifier import NotDelivered

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
# How far back a post that may have gone out is looked for: pages of 200 messages.
HISTORY_PAGES = 10


def notification_client(token: str, base_url: str, retries: int = 3, backoff_s: float = 0.5,
                        timeout_s: float = 15.0) -> WebClient:
    """A WebClient that waits out 429s (Retry-After), retries 5xx, and connection errors on reads.

    A post whose connection failed is not retried here: it may have been posted, and only a
    look at the channel (`posted_before`) can tell.
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


class SlackNotifier:
    """The outbox's way into Slack channels."""

    surface = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    @classmethod
    def like(cls, client: WebClient) -> SlackNotifier:
        """A notifier with `client`'s token and API, and the retries delivery needs (the app's
        own client may not wait out rate limits)."""
        return cls(notification_client(client.token or "", client.base_url))

    def post(self, notification: Notification, docs_base_url: str | None) -> str:
        """Post the notification; its message ts."""
        blocks, text = notification_message(notification.change, docs_base_url)
        with _translated():
            response = self.client.chat_postMessage(
                channel=notification.channel, text=text, blocks=blocks, unfurl_links=False,
                metadata=Metadata(event_type=EVENT_TYPE, event_payload=_payload(notification)))
        return str(response.get("ts") or "")

    def posted_before(self, notification: Notification, since: dt.datetime) -> str | None:
        """The ts of this notification's message in its channel, if an attempt posted it."""
        wanted, cursor = _payload(notification), None
        for _ in range(HISTORY_PAGES):
            with _translated():
                page = self.client.conversations_history(
                    channel=notification.channel, oldest=f"{since.timestamp():.6f}", limit=200,
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


class _translated:
    """Slack's errors as `NotDelivered`, permanent when no retry can fix them."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if isinstance(exc, SlackApiError):
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            remedy = REMEDIES.get(error)
            raise NotDelivered(f"{error} -- {remedy}" if remedy else error,
                               permanent=error in PERMANENT) from exc
        if isinstance(exc, SlackClientError | OSError):
            raise NotDelivered(f"no answer ({type(exc).__name__}: {exc}); the channel is "
                               "checked before it is posted again") from exc


def _payload(notification: Notification) -> dict:
    change = notification.change
    return {"notification_id": notification.id, "definition_id": change.definition_id,
            "kind": change.kind, "version": change.version}
