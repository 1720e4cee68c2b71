"""Which messages the bot answers without a command, and in which thread the reply goes.

A direct message or a mention is a question (or, where commands are typed, a command); a
follow-up in a thread the bot answered is a question; any other channel message is answered
only where autoanswer is on, and only when the bot is confident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.chat import commands
from bot.chat.replies import Replies
from bot.chat.reply import Reply, Where

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A message a surface received, its platform's payload already translated.

    `id`: the message's own id; `thread`: the thread it was posted in, if any.
    """

    text: str
    where: Where
    id: str
    thread: str | None = None


@dataclass(frozen=True)
class Threaded:
    """A reply and the thread it belongs in (None: the top level of a direct chat)."""

    reply: Reply
    thread: str | None


def answer_direct(replies: Replies, message: Message) -> Threaded:
    """A direct message: answered where it was written."""
    return Threaded(_question_or_command(replies, message), message.thread)


def answer_mention(replies: Replies, message: Message) -> Threaded:
    """A mention is a question; the answer goes into the thread (a new one if needed)."""
    return Threaded(_question_or_command(replies, message), message.thread or message.id)


def answer_message(replies: Replies, message: Message) -> Threaded | None:
    """A channel message nobody addressed to the bot: a follow-up, or autoanswer, or nothing."""
    if message.thread and message.thread != message.id:
        if _in_bot_thread(replies, message.where, message.thread):
            return Threaded(replies.ask(message.text, message.where), message.thread)
        return None
    reply = replies.autoanswer(message.text, message.where)
    return Threaded(reply, message.id) if reply else None


def _question_or_command(replies: Replies, message: Message) -> Reply:
    if replies.words.typed:
        command = commands.typed(replies, message.text, message.where)
        if command is not None:
            return command
    return replies.ask(message.text, message.where)


def _in_bot_thread(replies: Replies, where: Where, thread: str) -> bool:
    try:
        return replies.store.is_bot_thread(where.channel, thread, surface=where.surface)
    except Exception:  # without the store a follow-up needs a mention; it is not a failure
        log.warning("could not tell whether %s is the bot's thread", thread, exc_info=True)
        return False
