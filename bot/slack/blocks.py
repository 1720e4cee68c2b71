"""Render an `Answer` as Block Kit: a pure function, within Slack's limits by construction."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.chat.asked import Asked
from bot.chat.markup import escape
from bot.chat.replies import answer_id, summary
from knowledge.answer import DEMO, Answer, MetricResult, section_heading

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_ROWS = 40

RELATED = "related_term"
DID_YOU_MEAN = "did_you_mean"
HELPFUL = "feedback_helpful"
NOT_HELPFUL = "feedback_not_helpful"
SHOW_SQL = "show_sql"
SHARE = "share_in_channel"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")


def answer_blocks(answer: Answer, asked: Asked, *, shareable: bool = False) -> list[Block]:
    """Blocks for any answer; `shareable` adds "Share in channel" (for ephemeral replies)."""
    if answer.kind == "no_answer":
        blocks = _no_answer(answer)
    elif answer.kind == "metric":
        blocks = _metric(answer, asked)
    elif answer.kind == "comparison":
        blocks = _comparison(answer)
    else:
        blocks = _definition(answer)
    asked = asked.model_copy(update={"answer_id": answer_id(answer)})
    blocks.append(_footer_actions(asked, shareable))
    return fit(blocks)


def answer_text(answer: Answer) -> str:
    """The plain-text fallback Slack shows in notifications and to screen readers."""
    return summary(answer)[:MAX_SECTION]


def sql_blocks(result: MetricResult) -> list[Block]:
    """The SQL behind a metric value, as a code block."""
    fence = "```"
    body = cut(result.sql, MAX_SECTION - 2 * len(fence) - 40, None)
    return [_section(f"*SQL for {escape(result.name)}*\n{fence}{body}{fence}")]


def message_blocks(text: str) -> list[Block]:
    """A short mrkdwn message as blocks (help, confirmations, lists)."""
    return fit([_section(part) for part in _chunks(text)])


def fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: the last one (the buttons) is kept when the middle is cut."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 2], _context("…more than fits in one message."), blocks[-1]]


def cut(text: str, limit: int = MAX_SECTION, url: str | None = None) -> str:
    """`text` within `limit` characters, cut after a sentence, with a link to the rest."""
    if len(text) <= limit:
        return text
    more = f"… <{url}|Read the full text>" if url else "… (shortened; see the source)"
    room = limit - len(more)
    ends = [m.start() for m in _SENTENCE_END.finditer(text, 0, room + 1) if m.start() <= room]
    stop = ends[-1] if ends and ends[-1] > room // 2 else text.rfind(" ", 0, room)
    return text[: max(stop, 1)].rstrip() + more


def markdown_to_mrkdwn(text: str) -> str:
    """The glossary's Markdown (bold, bullets, links, headings) in Slack's mrkdwn dialect."""
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)]+)\)", r"<\2|\1>", text)
    text = re.sub(r"^#{1,6}\s*(.+)$", r"*\1*", text, flags=re.MULTILINE)
    return re.sub(r"^(\s*)[-*]\s+", r"\1• ", text, flags=re.MULTILINE)


def _definition(answer: Answer) -> list[Block]:
    url = answer.source.url if answer.source else None
    title = answer.name or answer.id or "Answer"
    if answer.section:  # a guide's section, or the part of a term that answers
        title = f"{title} › {section_heading(answer.section)}"
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_short(title, MAX_HEADER)))]
    if answer.notice:
        blocks.append(_section(f":warning: *{escape(answer.notice)}*"))
    body = answer.definition or ""
    if answer.kind == "guide":
        blocks.append(_section(cut(markdown_to_mrkdwn(body), MAX_SECTION, url)))
    else:
        # The governed definition is quoted verbatim: plain text, so nothing is reformatted.
        blocks.append(SectionBlock(text=PlainTextObject(text=cut(body, MAX_SECTION, None),
                                                        emoji=False)))
    if answer.detail:
        heading = f"*{escape(section_heading(answer.section))}*\n"
        blocks.append(_section(heading + cut(markdown_to_mrkdwn(answer.detail),
                                             MAX_SECTION - len(heading), url)))
    if answer.result is not None:
        blocks.append(_section(value_line(answer.result)))
    blocks.append(_context(_provenance(answer)))
    buttons = _related_buttons(answer)
    if buttons:
        blocks.append(ActionsBlock(block_id="related", elements=buttons))
    return blocks


def _comparison(answer: Answer) -> list[Block]:
    """Two definitions in two columns (a section's fields), then the lines relating them."""
    sides = answer.compared
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_short(answer.name or "",
                                                                        MAX_HEADER)))]
    for side in sides:
        if side.notice:
            blocks.append(_section(f":warning: *{escape(side.name or '')}:* "
                                   f"{escape(side.notice)}"))
    # Fields lay out two to a row: names, then the definitions quoted verbatim (plain text,
    # so nothing is reformatted), then where each is governed.
    fields = [MarkdownTextObject(text=_short(f"*{escape(s.name or '')}*", MAX_FIELD))
              for s in sides]
    fields += [PlainTextObject(text=cut(s.definition or "", MAX_FIELD, None), emoji=False)
               for s in sides]
    blocks.append(SectionBlock(fields=fields))
    blocks.append(SectionBlock(fields=[MarkdownTextObject(text=_short(_provenance(s), MAX_FIELD))
                                       for s in sides]))
    if answer.relations:
        blocks.append(_section("*How they relate*"))
    for relation in answer.relations:
        where = f"{relation.name} › {relation.section}" if relation.section else relation.name
        url = relation.source.url
        source = f"<{url}|{escape(where)}>" if url else escape(where)
        quote = cut(markdown_to_mrkdwn(relation.text), MAX_SECTION - len(source) - 8, url)
        blocks.append(_section(f"{quote}\n_{source}_"))
    blocks.append(ActionsBlock(block_id="related", elements=[
        _button(s.name or s.id or "", f"{RELATED}_{i}", s.id or "") for i, s in enumerate(sides)]))
    return blocks


def _provenance(answer: Answer) -> str:
    fields = [("Owner", answer.owner), ("Status", answer.status), ("Version", answer.version),
              ("Updated", str(answer.updated) if answer.updated else None),
              ("System of record", answer.authoritative_system), ("Metric", answer.metric)]
    parts = [f"*{label}:* {escape(value)}" for label, value in fields if value]
    if answer.source:
        where = escape(answer.source.path)
        parts.append(f"*Source:* <{answer.source.url}|{where}>" if answer.source.url
                     else f"*Source:* `{where}`")
    return "   ".join(parts)


def _related_buttons(answer: Answer) -> list[ButtonElement]:
    buttons = []
    if answer.replaced_by:
        buttons.append(_button(f"Use {answer.replaced_by.name} instead", f"{RELATED}_replaced",
                               answer.replaced_by.id, style="primary"))
    for i, ref in enumerate(answer.related[:20]):
        buttons.append(_button(ref.name, f"{RELATED}_{i}", ref.id))
    return buttons


def _metric(answer: Answer, asked: Asked) -> list[Block]:
    result = answer.result
    if result is None:  # a metric request that failed: the message says why
        return _no_answer(answer)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_short(result.name, MAX_HEADER)))]
    if result.interpretation:
        blocks.append(_context(f"_{escape(result.interpretation)}_"))
    headline = f"*{escape(result.formatted)}*"
    if result.period:
        headline += f"   {escape(result.period.label)} ({result.period.start} to "
        headline += f"{result.period.end} exclusive)"
    if result.comparison:
        headline += "\n" + _comparison_line(result)
    if result.filters:
        headline += "\nWhere " + escape(_filters(result.filters))
    if result.target:
        headline += "\n" + _target_line(result)
    if result.demo:
        headline += f"\n_{escape(DEMO)}_"
    blocks.append(_section(headline))
    if result.rows:
        blocks.append(_section(_table(result)))
    if answer.definition:
        blocks.append(_section(cut(escape(answer.definition))))
    blocks.append(_context(_provenance(answer)))
    blocks.append(ActionsBlock(block_id="metric", elements=[
        _button("Show SQL", SHOW_SQL, asked.encode())]))
    return blocks


def value_line(result: MetricResult) -> str:
    """The metric's current value, shown beside the definition of its term."""
    line = f":bar_chart: *{escape(result.name)}:* *{escape(result.formatted)}*"
    if result.period:
        line += f"   {escape(result.period.label)}"
    if result.target:
        line += "\n" + _target_line(result)
    if result.demo:
        line += f"\n_{escape(DEMO)}_"
    return line


def _target_line(result: MetricResult) -> str:
    target = result.target
    word = "at least" if target.direction == "at_least" else "at most"
    # The engine's text already starts with "at least"; a hand-made one may not.
    shown = target.formatted if target.formatted.startswith(word) else f"{word} {target.formatted}"
    if target.on_track is not None:  # a period still going on: measured against the pace
        status = ":white_check_mark: on track" if target.on_track else ":x: off track"
    else:
        status = {True: ":white_check_mark: on target", False: ":x: off target",
                  None: "no target status"}[target.met]
    return f"Target {escape(shown)}: {status}"


def _comparison_line(result: MetricResult) -> str:
    other = result.comparison
    return (f"vs {escape(other.period.label)} ({other.period.start} to {other.period.end} "
            f"exclusive): {escape(other.formatted)}, change *{escape(other.change_formatted)}*")


def _filters(filters: dict[str, tuple[str, ...]]) -> str:
    return ", ".join(f"{d} = {v[0]}" if len(v) == 1 else f"{d} in {', '.join(v)}"
                     for d, v in filters.items())


def _table(result: MetricResult) -> str:
    """Breakdown rows as a compact monospace table that fits one section."""
    header = [*result.dimensions, result.name]
    rows = [[v if v is not None else "(none)" for v in (row.dimensions.get(d)
             for d in result.dimensions)] + [row.formatted] for row in result.rows]
    widths = [min(28, max(len(str(c)) for c in col)) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c)[:w].ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()
             for line in [header, *rows]]
    kept, size = [], 0
    for i, line in enumerate(lines):
        if size + len(line) > MAX_SECTION - 80 or i > MAX_ROWS:
            kept.append(f"… and {len(lines) - i} more rows")
            break
        kept.append(line)
        size += len(line) + 1
    return "```" + escape("\n".join(kept)) + "```"


def _no_answer(answer: Answer) -> list[Block]:
    blocks: list[Block] = [_section(escape(answer.message or "No governed answer."))]
    if answer.suggestions:
        blocks.append(_context("Did you mean:"))
        blocks.append(ActionsBlock(block_id="did_you_mean", elements=[
            _button(s.name, f"{DID_YOU_MEAN}_{i}", s.id)
            for i, s in enumerate(answer.suggestions[:3])]))
    return blocks


def _footer_actions(asked: Asked, shareable: bool) -> ActionsBlock:
    value = asked.encode()
    buttons = [_button("Helpful", HELPFUL, value), _button("Not helpful", NOT_HELPFUL, value)]
    if shareable:
        buttons.append(_button("Share in channel", SHARE, value, style="primary"))
    return ActionsBlock(block_id="feedback", elements=buttons)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=_short(text, MAX_BUTTON)),
                         action_id=action_id, value=value, style=style)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_short(text, MAX_SECTION)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_short(text, MAX_SECTION))])


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str) -> list[str]:
    """Split a long message into section-sized parts at line breaks."""
    parts, current = [], ""
    for line in text.splitlines():
        if current and len(current) + len(line) + 1 > MAX_SECTION:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*parts, current] if current else parts
