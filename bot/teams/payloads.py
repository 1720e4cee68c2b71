"""Teams activities become transport-neutral values here, at the edge, and nowhere else."""

from __future__ import annotations

import re
from typing import Any

from bot.chat.conversation import Message
from bot.chat.reply import Where

SURFACE = "teams"
_THREAD = ";messageid="
_TAGS = re.compile(r"<[^>]+>")


def where_from(activity: Any, channel_name: str | None = None) -> Where:
    """Who wrote an activity, and in which conversation (a channel without its thread)."""
    conversation = activity.conversation
    sender = activity.from_
    return Where(user=getattr(sender, "aad_object_id", None) or sender.id,
                 channel=channel_of(conversation.id), channel_name=channel_name,
                 surface=SURFACE, direct=conversation.conversation_type == "personal")


def channel_of(conversation_id: str) -> str:
    """The conversation itself: a channel's id without the thread it was written in."""
    return conversation_id.split(_THREAD, 1)[0]


def thread_of(conversation_id: str) -> str | None:
    """The id of the channel post a message belongs under, if it is in a thread."""
    _, found, root = conversation_id.partition(_THREAD)
    return root if found else None


def message_from(activity: Any, where: Where) -> Message:
    """The question in a message activity, mentions of the bot removed."""
    text = activity.strip_mentions_text().text or ""
    return Message(text=" ".join(text.split()), where=where, id=activity.id or "",
                   thread=thread_of(activity.conversation.id))


def team_of(activity: Any) -> str | None:
    """The team a channel conversation belongs to (channel names are looked up there)."""
    data = getattr(activity, "channel_data", None)
    team = getattr(data, "team", None) if data else None
    return getattr(team, "id", None)


def plain_text(html_or_text: str) -> str:
    """A message's text without the HTML Teams wraps it in."""
    return " ".join(_TAGS.sub(" ", html_or_text or "").replace("&nbsp;", " ").split())
