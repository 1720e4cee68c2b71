"""Which channel messages the bot answers without a slash command, and where the reply goes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.slack.payloads import mentions_user, where_from_event, without_mentions
from bot.slack.replies import Replies, Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Threaded:
    """A reply and the thread it belongs in (None: the top level of a DM)."""

    reply: Reply
    thread_ts: str | None


def answer_mention(replies: Replies, event: dict) -> Threaded:
    """An @mention is a question; the answer goes into the thread (a new one if needed)."""
    reply = replies.ask(without_mentions(event.get("text", "")), where_from_event(event))
    return Threaded(reply, event.get("thread_ts") or event["ts"])


def answer_message(replies: Replies, event: dict, bot_user_id: str | None) -> Threaded | None:
    """A DM, a follow-up in a thread the bot answered, or an auto-answered channel question."""
    if event.get("subtype") or event.get("bot_id") or not event.get("text"):
        return None  # edits, joins, bot posts (ours included): never questions
    where = where_from_event(event)
    thread_ts = event.get("thread_ts")
    if event.get("channel_type") == "im":
        return Threaded(replies.ask(without_mentions(event["text"]), where), thread_ts)
    if mentions_user(event["text"], bot_user_id):
        return None  # the app_mention event for the same message answers it
    if thread_ts and thread_ts != event["ts"]:
        if _in_bot_thread(replies, event["channel"], thread_ts):
            return Threaded(replies.ask(event["text"], where), thread_ts)
        return None
    reply = replies.autoanswer(event["text"], where)
    return Threaded(reply, event["ts"]) if reply else None


def _in_bot_thread(replies: Replies, channel: str, thread_ts: str) -> bool:
    try:
        return replies.store.is_bot_thread(channel, thread_ts)
    except Exception:  # without the store a follow-up needs a mention; it is not a failure
        log.warning("could not tell whether %s is the bot's thread", thread_ts, exc_info=True)
        return False
