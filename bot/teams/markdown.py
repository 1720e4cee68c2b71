"""Slack mrkdwn and the glossary's Markdown in the Markdown subset Adaptive Cards render.

Cards render `**bold**`, `_italic_` or `*italic*`, `[label](url)` links, `- ` and `1. `
lists, and nothing else: no headings, no code spans, no HTML. Mentions are `<at>name</at>`
in the text plus an entity on the card (see `cards.message_card`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_ANGLE = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_EMOJI_CODE = re.compile(r"(?<![\w:]):([a-z0-9_+-]+):(?![\w:])")
# The shortcodes the chat core writes; any other stays as typed.
EMOJI = {"warning": "⚠️", "white_check_mark": "✅", "x": "❌", "bar_chart": "📊",
         "bell": "🔔", "memo": "📝", "mag": "🔍", "wave": "👋"}
_HOLD = "\x00{}\x00"
_HELD = re.compile(r"\x00(\d+)\x00")


def from_mrkdwn(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn as card Markdown; `names` gives the display name of a mentioned user id."""
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return _HOLD.format(len(held) - 1)

    # Code and links first: nothing inside them is formatting.
    text = _CODE.sub(lambda m: hold(html.unescape(m.group(0))), text)
    text = _ANGLE.sub(lambda m: hold(_angle(m.group(1), names or {})), text)
    # Bold is marked with a stand-in first, so the italic pass cannot read it as italic.
    text = _BOLD.sub(lambda m: f"\x01{m.group(1)}\x01", text)
    text = _ITALIC.sub(r"*\1*", text).replace("\x01", "**")
    text = _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    text = html.unescape(text)
    return _HELD.sub(lambda m: held[int(m.group(1))], text)


def mentioned(text: str, names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The (user id, display name) of each `<@ID>` in mrkdwn text, once each, in order."""
    found: dict[str, str] = {}
    for inner in _ANGLE.findall(text):
        if inner.startswith("@"):
            user, _, label = inner[1:].partition("|")
            found.setdefault(user, _name(user, label, names or {}))
    return list(found.items())


def from_markdown(text: str) -> str:
    """The glossary's Markdown for a card: headings become bold lines, `*` bullets `-` ones."""
    text = re.sub(r"^#{1,6}\s*(.+?)\s*#*$", r"**\1**", text, flags=re.MULTILINE)
    return re.sub(r"^(\s*)[*+]\s+", r"\1- ", text, flags=re.MULTILINE)


def _angle(inner: str, names: Mapping[str, str]) -> str:
    """One `<...>` of mrkdwn: a user, a channel, a special mention or a link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"<at>{_name(target[1:], label, names)}</at>"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        return label or f"@{target[1:].split('^')[0]}"
    url = html.unescape(target)
    if not re.match(r"(https?|mailto):", url):
        return html.unescape(f"<{inner}>")  # not a link after all: shown as written
    shown = html.unescape(label) if label else url.removeprefix("mailto:")
    shown = shown.replace("[", "(").replace("]", ")")  # a bracket would end the label early
    return f"[{shown}]({url.replace(')', '%29')})"


def _name(user: str, label: str, names: Mapping[str, str]) -> str:
    return html.unescape(label) if label else names.get(user, user)
