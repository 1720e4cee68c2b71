"""Render an `Answer` as an Adaptive Card: a pure function, within Teams' message size.

Governed text is quoted verbatim in RichTextBlocks (a TextRun is never read as Markdown);
only text the bot writes itself goes through TextBlock Markdown. Buttons are Action.Execute:
a click comes back as an `adaptiveCard/action` invoke whose data is `card_data(...)`, which
`parse_card_data` reads back.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    CodeBlock,
    Column,
    ColumnDefinition,
    ColumnSet,
    ExecuteAction,
    Fact,
    FactSet,
    Mention,
    MentionedEntity,
    RichTextBlock,
    Table,
    TableCell,
    TableRow,
    TeamsCardProperties,
    TextBlock,
    TextRun,
)

from bot.chat.asked import Asked
from bot.chat.replies import answer_id, summary
from bot.teams.markdown import from_markdown, from_mrkdwn, mentioned
from knowledge.answer import DEMO, Answer, MetricResult, section_heading

# Teams refuses a message over about 28 KB, the activity around the card included.
MAX_CARD_BYTES = 27_000
MAX_TEXT = 5_000
MAX_FIELD = 2_000
MAX_TITLE = 150
MAX_BUTTON = 60
MAX_ROWS = 40
MAX_CELL = 120
MAX_RELATED = 20
MAX_SQL = 15_000
BUTTONS_PER_ROW = 5

RELATED = "related_term"
DID_YOU_MEAN = "did_you_mean"
HELPFUL = "feedback_helpful"
NOT_HELPFUL = "feedback_not_helpful"
SHOW_SQL = "show_sql"
ACTIONS = frozenset({RELATED, DID_YOU_MEAN, HELPFUL, NOT_HELPFUL, SHOW_SQL})

_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Submitted:
    """A click on one of our buttons: what it does, and the request it carries."""

    action: str
    asked: Asked


def card_data(action: str, asked: Asked) -> dict[str, str]:
    """The data an Action.Execute sends back; `action` is the key the SDK routes on."""
    return {"action": action, "asked": asked.encode()}


def parse_card_data(value: Any) -> Submitted | None:
    """The click behind a card action's `value` (a dict or its JSON), or None if not ours."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or value.get("action") not in ACTIONS:
        return None
    encoded = value.get("asked")
    asked = Asked.decode(encoded) if isinstance(encoded, str) else None
    return Submitted(value["action"], asked) if asked else None


def answer_card(answer: Answer, asked: Asked) -> AdaptiveCard:
    """The card for any answer, ending in Helpful / Not helpful."""
    if answer.kind == "no_answer":
        body = _no_answer(answer)
    elif answer.kind == "metric":
        body = _metric(answer, asked)
    elif answer.kind == "comparison":
        body = _comparison(answer)
    else:
        body = _definition(answer)
    asked = asked.model_copy(update={"answer_id": answer_id(answer)})
    body.append(_buttons([("Helpful", card_data(HELPFUL, asked), None),
                          ("Not helpful", card_data(NOT_HELPFUL, asked), None)]))
    return fit(AdaptiveCard(body=body, fallback_text=summary(answer)[:MAX_TEXT]))


def message_card(text: str, names: Mapping[str, str] | None = None) -> AdaptiveCard:
    """A short mrkdwn message (help, lists, errors, confirmations) as a card, one line a block.

    `names` gives the display name of each `<@USERID>`; Teams shows mentions by that name.
    """
    body: list[CardElement] = []
    for i, part in enumerate(_FENCE.split(text)):
        if i % 2:  # inside a ``` fence: shown as written
            body.append(_code(html.unescape(part.strip("\n")), "PlainText"))
            continue
        gap = False
        for line in part.splitlines():
            if not line.strip():
                gap = True
                continue
            body.append(TextBlock(text=from_mrkdwn(line, names), wrap=True,
                                  spacing="Medium" if gap else "None"))
            gap = False
    people = mentioned(text, names)
    teams = TeamsCardProperties(entities=[
        Mention(text=f"<at>{name}</at>", mentioned=MentionedEntity(id=user, name=name))
        for user, name in people]) if people else None
    return fit(AdaptiveCard(body=body, msteams=teams))


def sql_card(result: MetricResult) -> AdaptiveCard:
    """The SQL behind a metric value, as a code block."""
    return fit(AdaptiveCard(body=[
        _title(f"SQL for {result.name}"),
        _code(shorten(result.sql, MAX_SQL), "Sql")]))


def card_bytes(card: AdaptiveCard | CardElement) -> int:
    """The size of a card (or one of its elements) as Teams receives it: compact UTF-8 JSON."""
    content = card.model_dump(by_alias=True, exclude_none=True)
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def fit(card: AdaptiveCard) -> AdaptiveCard:
    """Within MAX_CARD_BYTES: the biggest blocks go first; the title and buttons always stay."""
    body = list(card.body or [])
    if card_bytes(card) <= MAX_CARD_BYTES:
        return card
    note = _plain("…more than fits in one message.", is_subtle=True)
    droppable = [i for i, block in enumerate(body) if i and not isinstance(block, ActionSet)]
    dropped: set[int] = set()
    trimmed = card
    for i in sorted(droppable, key=lambda i: -card_bytes(body[i])):
        dropped.add(i)
        first = min(dropped)
        kept = [note if j == first else block for j, block in enumerate(body)
                if j == first or j not in dropped]
        trimmed = card.model_copy(update={"body": kept})
        if card_bytes(trimmed) <= MAX_CARD_BYTES:
            break
    return trimmed


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut after a sentence (else a word), ending in "…"."""
    if len(text) <= limit:
        return text
    room = limit - 1
    ends = [m.start() for m in _SENTENCE_END.finditer(text, 0, room + 1) if m.start() <= room]
    stop = ends[-1] if ends and ends[-1] > room // 2 else text.rfind(" ", 0, room)
    return text[: max(stop, 1)].rstrip() + "…"


def _definition(answer: Answer) -> list[CardElement]:
    url = answer.source.url if answer.source else None
    title = answer.name or answer.id or "Answer"
    if answer.section:  # a guide's section, or the part of a term that answers
        title = f"{title} › {section_heading(answer.section)}"
    body: list[CardElement] = [_title(title)]
    if answer.notice:
        body.append(_notice(answer.notice))
    text = answer.definition or ""
    if answer.kind == "guide":
        body += _markdown_body(from_markdown(text), url)
    else:  # the governed definition, quoted verbatim
        body += _verbatim_body(text, MAX_TEXT, url)
    if answer.detail:
        if answer.section:
            body.append(_plain(section_heading(answer.section), weight="Bolder"))
        body += _markdown_body(from_markdown(answer.detail), url)
    if answer.result is not None:
        body += _value_line(answer.result)
    body.append(_provenance(answer))
    buttons = _related_buttons(answer)
    if buttons:
        body += [_buttons(buttons[i:i + BUTTONS_PER_ROW])
                 for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return body


def _comparison(answer: Answer) -> list[CardElement]:
    """Two definitions side by side, each with its provenance, then the lines relating them."""
    sides = answer.compared
    body: list[CardElement] = [_title(answer.name or "")]
    body += [_notice(f"{s.name}: {s.notice}") for s in sides if s.notice]
    body.append(ColumnSet(columns=[
        Column(width="stretch", items=[
            _plain(s.name or s.id or "", weight="Bolder"),
            *_verbatim_body(s.definition or "", MAX_FIELD, s.source.url if s.source else None),
            _provenance(s)])
        for s in sides]))
    if answer.relations:
        body.append(_plain("How they relate", weight="Bolder"))
    for relation in answer.relations:
        where = f"{relation.name} › {relation.section}" if relation.section else relation.name
        url = relation.source.url
        body += _markdown_body(from_markdown(relation.text), url)
        body.append(_link(where, url) if url else _plain(where, is_subtle=True, italic=True))
    body.append(_buttons([(s.name or s.id or "", card_data(RELATED, _define(s.id)), None)
                          for s in sides if s.id]))
    return body


def _metric(answer: Answer, asked: Asked) -> list[CardElement]:
    result = answer.result
    if result is None:  # a metric request that failed: the message says why
        return _no_answer(answer)
    body: list[CardElement] = [_title(result.name)]
    if result.interpretation:
        body.append(_plain(result.interpretation, is_subtle=True, italic=True))
    body.append(_plain(result.formatted, size="ExtraLarge", weight="Bolder"))
    if result.period:
        body.append(_plain(f"{result.period.label} ({result.period.start} to "
                           f"{result.period.end} exclusive)", spacing="None"))
    if result.comparison:
        other = result.comparison
        body.append(RichTextBlock(inlines=[
            TextRun(text=f"vs {other.period.label} ({other.period.start} to {other.period.end} "
                         f"exclusive): {other.formatted}, change "),
            TextRun(text=other.change_formatted, weight="Bolder")]))
    if result.filters:
        body.append(_plain("Where " + _filters(result.filters)))
    if result.target:
        body.append(_plain(target_line(result)))
    if result.demo:
        body.append(_plain(DEMO, is_subtle=True, italic=True))
    if result.rows:
        body += _table(result)
    if answer.definition:
        body += _verbatim_body(answer.definition, MAX_TEXT, None)
    body.append(_provenance(answer))
    body.append(_buttons([("Show SQL", card_data(SHOW_SQL, asked), None)]))
    return body


def target_line(result: MetricResult) -> str:
    """"Target at least 3.0x: ✅ on target", or on/off track for a period still going on."""
    target = result.target
    word = "at least" if target.direction == "at_least" else "at most"
    # The engine's text already starts with "at least"; a hand-made one may not.
    shown = target.formatted if target.formatted.startswith(word) else f"{word} {target.formatted}"
    if target.on_track is not None:
        status = "✅ on track" if target.on_track else "❌ off track"
    else:
        status = {True: "✅ on target", False: "❌ off target",
                  None: "no target status"}[target.met]
    return f"Target {shown}: {status}"


def _value_line(result: MetricResult) -> list[CardElement]:
    """The metric's current value, shown beside the definition of its term."""
    runs = [TextRun(text=f"📊 {result.name}: "), TextRun(text=result.formatted, weight="Bolder")]
    if result.period:
        runs.append(TextRun(text=f"   {result.period.label}"))
    lines: list[CardElement] = [RichTextBlock(inlines=runs)]
    if result.target:
        lines.append(_plain(target_line(result), spacing="None"))
    if result.demo:
        lines.append(_plain(DEMO, spacing="None", is_subtle=True, italic=True))
    return lines


def _filters(filters: dict[str, tuple[str, ...]]) -> str:
    return ", ".join(f"{d} = {v[0]}" if len(v) == 1 else f"{d} in {', '.join(v)}"
                     for d, v in filters.items())


def _table(result: MetricResult) -> list[CardElement]:
    """The breakdown as a Table, first row the header; rows past MAX_ROWS are counted."""
    header = [*result.dimensions, result.name]
    rows = [[v if v is not None else "(none)" for v in (row.dimensions.get(d)
             for d in result.dimensions)] + [row.formatted] for row in result.rows[:MAX_ROWS]]
    columns = [ColumnDefinition(width=1) for _ in result.dimensions]
    columns.append(ColumnDefinition(width=1, horizontal_cell_content_alignment="Right"))
    table = Table(first_row_as_headers=True, show_grid_lines=True, columns=columns, rows=[
        TableRow(cells=[TableCell(items=[_plain(_short(str(c), MAX_CELL), weight=weight)])
                        for c in line])
        for line, weight in [(header, "Bolder"), *((r, None) for r in rows)]])
    more = len(result.rows) - MAX_ROWS
    return [table, _plain(f"… and {more} more rows", is_subtle=True)] if more > 0 else [table]


def _no_answer(answer: Answer) -> list[CardElement]:
    body: list[CardElement] = _lines(answer.message or "No governed answer.")
    if answer.suggestions:
        body.append(_plain("Did you mean:", is_subtle=True))
        body.append(_buttons([(s.name, card_data(DID_YOU_MEAN, _define(s.id)), None)
                              for s in answer.suggestions[:3]]))
    return body


def _provenance(answer: Answer) -> FactSet:
    fields = [("Owner", answer.owner), ("Status", answer.status), ("Version", answer.version),
              ("Updated", str(answer.updated) if answer.updated else None),
              ("System of record", answer.authoritative_system), ("Metric", answer.metric)]
    facts = [Fact(title=label, value=value) for label, value in fields if value]
    if answer.source:
        path, url = answer.source.path, answer.source.url
        facts.append(Fact(title="Source", value=f"[{path}]({url})" if url else path))
    return FactSet(facts=facts)


def _related_buttons(answer: Answer) -> list[tuple[str, dict[str, str], str | None]]:
    buttons = []
    if answer.replaced_by:
        buttons.append((f"Use {answer.replaced_by.name} instead",
                        card_data(RELATED, _define(answer.replaced_by.id)), "positive"))
    for ref in answer.related[:MAX_RELATED]:
        buttons.append((ref.name, card_data(RELATED, _define(ref.id)), None))
    return buttons


def _define(term_id: str) -> Asked:
    """What a related-term or did-you-mean button asks: that term's definition."""
    return Asked(via="define", text=term_id)


def _buttons(buttons: Sequence[tuple[str, dict[str, str], str | None]]) -> ActionSet:
    return ActionSet(actions=[
        ExecuteAction(title=_short(title, MAX_BUTTON), verb=data["action"], data=data,
                      style=style)
        for title, data, style in buttons])


def _markdown_body(text: str, url: str | None) -> list[CardElement]:
    """Card Markdown cut at a sentence, with a link to the full text when it was cut."""
    short = shorten(text, MAX_TEXT)
    if short != text and url:
        short += f" [Read the full text]({url})"
    return [TextBlock(text=short, wrap=True)]


def _verbatim_body(text: str, limit: int, url: str | None) -> list[CardElement]:
    """Governed text as written; a cut one is followed by a link to the full text."""
    short = shorten(text, limit)
    body: list[CardElement] = _lines(short)
    if short != text:
        body.append(_link("Read the full text", url) if url
                    else _plain("(shortened; see the source)", is_subtle=True))
    return body


def _title(text: str) -> RichTextBlock:
    return _plain(_short(text, MAX_TITLE), size="Large", weight="Bolder")


def _notice(text: str) -> RichTextBlock:
    return RichTextBlock(inlines=[TextRun(text=f"⚠️ {text}", weight="Bolder", color="Warning")])


def _link(label: str, url: str) -> TextBlock:
    label = label.replace("[", "(").replace("]", ")")
    return TextBlock(text=f"[{label}]({url})", wrap=True, is_subtle=True)


def _code(text: str, language: str) -> CodeBlock:
    """A code block; clients without CodeBlock show the same text in a monospace font."""
    return CodeBlock(code_snippet=text, language=language,
                     fallback=RichTextBlock(inlines=[TextRun(text=text, font_type="Monospace")]))


def _plain(text: str, spacing: str | None = None, **run: Any) -> RichTextBlock:
    """Text shown exactly as written: a TextRun is never read as Markdown."""
    return RichTextBlock(inlines=[TextRun(text=text, **run)], spacing=spacing)


def _lines(text: str, **run: Any) -> list[CardElement]:
    """Several lines as written, a block each: renderers fold line breaks inside a TextRun."""
    blocks: list[CardElement] = []
    gap = False
    for line in text.splitlines() or [""]:
        if line.strip() or not blocks:
            blocks.append(_plain(line, spacing=("Medium" if gap else "None") if blocks else None,
                                 **run))
        gap = not line.strip()
    return blocks


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
