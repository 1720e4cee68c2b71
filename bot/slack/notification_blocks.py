"""A definition change as a Slack message: before → after with the changed words marked."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.state.diffing import word_diff
from bot.state.models import Change

SECTION_LIMIT = 3000  # Slack rejects a section whose text is longer
HEADER_LIMIT = 150
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)

_TITLES = {
    "added": "New definition", "changed": "Definition changed", "approved": "Approved",
    "deprecated": "Deprecated", "removed": "Removed",
}


def notification_message(change: Change, docs_base_url: str | None = None
                         ) -> tuple[list[Block], str]:
    """The blocks and the plain-text fallback announcing one change."""
    kind = "metric" if change.kind == "metric" else "term"
    title = f"{_TITLES[change.change]}: {change.name}"
    blocks: list[Block] = [HeaderBlock(text=_cut(title, HEADER_LIMIT))]
    before, after = _marked(change)
    if change.change == "removed":
        blocks.append(_section(f"This {kind} is no longer governed. Its last definition was:\n"
                               f"{_quote(after)}"))
    elif before is not None and change.before != change.text:
        blocks.append(_section(f"*Before* (version {change.previous_version})\n{_quote(before)}"))
        blocks.append(_section(f"*After* (version {change.version})\n{_quote(after)}"))
    elif before is not None:
        blocks.append(_section(f"_The definition text is unchanged._\n{_quote(after)}"))
    else:
        blocks.append(_section(_quote(after)))
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_facts(change, docs_base_url))]))
    return blocks, _fallback(title, change)


def _marked(change: Change) -> tuple[str | None, str]:
    """Before with removed words struck (~x~), after with added words in bold (*x*)."""
    if change.change == "removed" or change.before is None:
        return None, _escape(change.text)
    if change.before == change.text:
        return _escape(change.before), _escape(change.text)
    ops = word_diff(change.before, change.text)
    before = "".join(_mark(t, "~") if op == "delete" else _escape(t)
                     for op, t in ops if op != "insert")
    after = "".join(_mark(t, "*") if op == "insert" else _escape(t)
                    for op, t in ops if op != "delete")
    return before, after


def _mark(text: str, char: str) -> str:
    # Slack only renders ~x~ and *x* when the markers hug the words and stay on one line.
    lines = []
    for line in text.split("\n"):
        lead, core, trail = _EDGES.match(line).groups()
        lines.append(f"{lead}{char}{_escape(core)}{char}{trail}" if core else line)
    return "\n".join(lines)


def _facts(change: Change, docs_base_url: str | None) -> str:
    facts = [f"Owner: {_escape(change.owner)}", f"Version: {change.version_shown}",
             f"Status: {change.status_shown}"]
    if change.path:
        source = _escape(change.path)
        if docs_base_url:
            source = f"<{docs_base_url.rstrip('/')}/{change.path}|{source}>"
        facts.append(f"Source: {source}")
    return "   ".join(facts)


def _fallback(title: str, change: Change) -> str:
    """Notifications and screen readers show this instead of the blocks."""
    parts = [f"{title} (version {change.version}, owner {change.owner})."]
    if change.before is not None and change.change != "removed":
        parts.append(f"Before: {change.before}")
        parts.append(f"After: {change.text}")
    else:
        parts.append(change.text)
    return _cut(" ".join(parts), 3900)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_cut(text, SECTION_LIMIT)))


def _quote(text: str) -> str:
    return "\n".join(f">{line}" for line in text.split("\n"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
