"""A core `Reply` as a Teams message: an Adaptive Card, threaded under what it answers."""

from __future__ import annotations

from typing import Any

from bot.chat.asked import Asked
from bot.chat.reply import Reply
from bot.teams import cards


def card(reply: Reply) -> Any:
    """The Adaptive Card for a reply: an answer, the SQL behind one, or a message."""
    if reply.answer is not None:
        return cards.answer_card(reply.answer,
                                 reply.asked or Asked(via="ask", text=reply.answer.question))
    if reply.sql is not None:
        return cards.sql_card(reply.sql)
    return cards.message_card(reply.text)


def activity(reply: Reply, reply_to: str | None = None) -> Any:
    """The message activity to send; `reply_to`: the message it answers."""
    from microsoft_teams.api import MessageActivityInput

    return MessageActivityInput(reply_to_id=reply_to).add_card(card(reply))
