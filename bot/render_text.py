"""Render an Answer for a terminal: a pure function from Answer to rich renderables."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from knowledge.answer import DEMO, Answer, MetricResult, section_heading


def render_answer(answer: Answer) -> RenderableType:
    """A panel with the governed text and its provenance, or the no-answer suggestions."""
    if answer.kind == "no_answer":
        return _no_answer(answer)
    if answer.kind == "comparison":
        return _comparison(answer)
    parts: list[RenderableType] = []
    if answer.notice:
        parts.append(Text(answer.notice, style="bold yellow"))
    if answer.kind == "metric" and answer.result:
        parts.append(render_result(answer.result, sql=False))
    parts.append(Text(answer.definition or ""))
    if answer.detail:
        # The part of the term that answers the question, verbatim, under its governed headline.
        parts += [Text(""), Text(section_heading(answer.section), style="bold"),
                  Text(answer.detail)]
    if answer.kind == "definition" and answer.result:
        parts += [Text(""), _value_line(answer.result)]
    parts += [Text(""), _provenance(answer)]
    if answer.related:
        related = ", ".join(f"{r.name} ({r.id})" for r in answer.related)
        parts.append(Text.assemble(("Related: ", "dim"), related))
    if answer.kind == "metric" and answer.result:
        parts += [Text(""), Text("SQL", style="dim"), Text(answer.result.sql, style="cyan")]
    title = answer.name or ""
    if answer.kind in ("guide", "definition") and answer.section:
        title = f"{title} › {section_heading(answer.section)}"
    return Panel(Group(*parts), title=Text(title, style="bold"), title_align="left",
                 border_style="yellow" if answer.notice else "cyan")


def _comparison(answer: Answer) -> RenderableType:
    """Two governed definitions side by side, then the governed lines that relate them."""
    parts: list[RenderableType] = []
    if answer.notice:
        parts.append(Text(answer.notice, style="bold yellow"))
    parts.append(_SideBySide([_side(side) for side in answer.compared]))
    if answer.relations:
        parts += [Text(""), Text("How they relate", style="bold")]
    for relation in answer.relations:
        where = f"{relation.name} › {relation.section}" if relation.section else relation.name
        source = relation.source.url or relation.source.path
        parts += [Text(relation.text), Text(f"  {where} ({source})", style="dim")]
    noticed = answer.notice or any(side.notice for side in answer.compared)
    return Panel(Group(*parts), title=Text(answer.name or "", style="bold"), title_align="left",
                 border_style="yellow" if noticed else "cyan")


def _side(answer: Answer) -> RenderableType:
    parts: list[RenderableType] = [Text(answer.name or "", style="bold")]
    if answer.notice:
        parts.append(Text(answer.notice, style="bold yellow"))
    return Group(*parts, Text(answer.definition or ""), Text(""), _provenance(answer))


class _SideBySide:
    """Two columns where the terminal is wide enough to read both, else one after the other."""

    MIN_WIDTH = 100

    def __init__(self, items: list[RenderableType]) -> None:
        self.items = items

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= self.MIN_WIDTH:
            grid = Table.grid(expand=True, padding=(0, 3))
            for _ in self.items:
                grid.add_column(ratio=1)
            grid.add_row(*self.items)
            yield grid
            return
        for number, item in enumerate(self.items):
            if number:
                yield Text("")
            yield item


def _provenance(answer: Answer) -> Text:
    line = Text()
    fields = [("Owner", answer.owner), ("Status", answer.status), ("Version", answer.version),
              ("Updated", str(answer.updated) if answer.updated else None),
              ("System of record", answer.authoritative_system), ("Metric", answer.metric)]
    for label, value in fields:
        if value:
            line.append(f"{label}: ", style="dim").append(value).append("   ")
    if answer.source:
        line.append("\nSource: ", style="dim").append(answer.source.url or answer.source.path)
    return line


def _no_answer(answer: Answer) -> RenderableType:
    text = Text(answer.message or "No governed answer.", style="bold")
    if answer.suggestions:
        names = ", ".join(f"{s.name} ({s.id})" for s in answer.suggestions)
        text.append("\nDid you mean: ", style="dim").append(names)
    return Panel(text, border_style="red", title="No answer", title_align="left")


def render_result(result: MetricResult, sql: bool = True) -> RenderableType:
    """What was computed, the value, period, target and comparison, the breakdown table (a
    time grain's rows in time order), and the SQL behind it."""
    parts: list[RenderableType] = []
    if result.interpretation:
        parts.append(Text(result.interpretation, style="italic"))
    parts.append(_value_line(result))
    if result.comparison:
        parts.append(_comparison_line(result))
    if result.filters:
        parts.append(Text.assemble(("Where: ", "dim"), filters_text(result.filters)))
    if result.rows:
        table = Table(*result.dimensions, result.name, box=None, pad_edge=False)
        for row in result.rows:
            table.add_row(*[row.dimensions.get(d) or "(none)" for d in result.dimensions],
                          row.formatted)
        parts.append(table)
    if sql:
        parts += [Text("SQL", style="dim"), Text(result.sql, style="cyan")]
    return Group(*parts)


def filters_text(filters: dict[str, tuple[str, ...]]) -> str:
    """`region = EMEA`, or `region in EMEA, APAC` for several values."""
    return ", ".join(f"{d} = {v[0]}" if len(v) == 1 else f"{d} in {', '.join(v)}"
                     for d, v in filters.items())


def _comparison_line(result: MetricResult) -> Text:
    other = result.comparison
    last = other.period.end.toordinal() - 1
    days = f"{other.period.start} – {type(other.period.end).fromordinal(last)}"
    return Text.assemble(("vs ", "dim"), (other.period.label, "bold"), (f" ({days}): ", "dim"),
                         other.formatted, ("  change ", "dim"),
                         (other.change_formatted, "bold"))


def _value_line(result: MetricResult) -> Text:
    line = Text.assemble((f"{result.name}: ", "bold"), (result.formatted, "bold green"))
    if result.period:
        end = result.period.end.toordinal() - 1
        last = type(result.period.end).fromordinal(end)
        line.append(f"  {result.period.label} ({result.period.start} – {last})", style="dim")
    if result.target:
        line.append(f"  target {result.target.formatted} ", style="dim").append(
            *_target_status(result))
    if result.demo:
        line.append(f"  {DEMO}", style="bold yellow")
    return line


def _target_status(result: MetricResult) -> tuple[str, str]:
    target = result.target
    if target.on_track is not None:  # a period still going on: measured against the pace
        return {True: ("✓ on track", "green"), False: ("✗ off track", "red")}[target.on_track]
    return {True: ("✓ on target", "green"), False: ("✗ off target", "red"),
            None: ("target", "dim")}[target.met]
