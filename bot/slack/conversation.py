"""Slack message events as core `Message`s; the core decides which get an answer."""

from __future__ import annotations

from bot.chat import conversation
from bot.chat.conversation import Message, Threaded
from bot.chat.replies import Replies
from bot.slack.payloads import mentions_user, where_from_event, without_mentions


def answer_mention(replies: Replies, event: dict) -> Threaded:
    """An @mention is a question; the answer goes into the thread (a new one if needed)."""
    return conversation.answer_mention(replies, _message(event, without_mentions(event.get(
        "text", ""))))


def answer_message(replies: Replies, event: dict, bot_user_id: str | None) -> Threaded | None:
    """A DM, a follow-up in a thread the bot answered, or an auto-answered channel question."""
    if event.get("subtype") or event.get("bot_id") or not event.get("text"):
        return None  # edits, joins, bot posts (ours included): never questions
    if event.get("channel_type") == "im":
        return conversation.answer_direct(replies, _message(event, without_mentions(
            event["text"])))
    if mentions_user(event["text"], bot_user_id):
        return None  # the app_mention event for the same message answers it
    return conversation.answer_message(replies, _message(event, event["text"]))


def _message(event: dict, text: str) -> Message:
    return Message(text=text, where=where_from_event(event), id=event["ts"],
                   thread=event.get("thread_ts"))
