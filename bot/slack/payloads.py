"""Slack payloads become transport-neutral values here, at the edge, and nowhere else."""

from __future__ import annotations

import re

from bot.chat.reply import Where

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def where_from_command(command: dict) -> Where:
    """Who ran a slash command, and in which channel."""
    channel = command.get("channel_id")
    return Where(user=command.get("user_id"), channel=channel,
                 channel_name=command.get("channel_name"), direct=_direct(channel))


def where_from_event(event: dict) -> Where:
    """Who wrote a message, and in which channel."""
    return Where(user=event.get("user"), channel=event.get("channel"),
                 direct=_direct(event.get("channel")))


def where_from_interaction(body: dict) -> Where:
    """Who clicked a button or ran a shortcut, and in which channel."""
    channel = body.get("channel") or {}
    return Where(user=(body.get("user") or {}).get("id"), channel=channel.get("id"),
                 channel_name=channel.get("name"), direct=_direct(channel.get("id")))


def _direct(channel: str | None) -> bool:
    """A DM with the bot (its channel id starts with D): nobody but the asker reads it."""
    return (channel or "").startswith("D")


def without_mentions(text: str) -> str:
    """The question in "<@U123> what is an MQL?": user mentions removed."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def mentions_user(text: str, user_id: str | None) -> bool:
    """Whether a message @mentions this user (the bot: then app_mention answers it)."""
    return bool(user_id) and f"<@{user_id}" in (text or "")
