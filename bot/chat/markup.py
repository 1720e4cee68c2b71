"""The markup of the core's messages: Slack's mrkdwn, which each surface translates.

`*bold*`, `_italic_`, backticks, `<url|label>` links and `&amp;`-escaped control characters;
Slack shows it as is, Teams converts it (bot/teams/markdown.py), the terminal strips it.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """What a user typed, made safe to quote inside a message."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
