"""Render an Answer for a terminal: a pure function from Answer to rich renderables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from knowledge.answer import DEMO, Answer, MetricResult


def render_answer(answer: Answer) -> RenderableType:
    """A panel with the governed text and its provenance, or the no-answer suggestions."""
    if answer.kind == "no_answer":
        return _no_answer(answer)
    parts: list[RenderableType] = []
    if answer.notice:
        parts.append(Text(answer.notice, style="bold yellow"))
    if answer.kind == "metric" and answer.result:
        parts.append(render_result(answer.result, sql=False))
    parts.append(Text(answer.definition or ""))
    if answer.kind == "definition" and answer.result:
        parts += [Text(""), _value_line(answer.result)]
    if answer.detail:
        parts += [Text(""), Text(answer.section or "", style="bold"), Markdown(answer.detail)]
    parts += [Text(""), _provenance(answer)]
    if answer.related:
        related = ", ".join(f"{r.name} ({r.id})" for r in answer.related)
        parts.append(Text.assemble(("Related: ", "dim"), related))
    if answer.kind == "metric" and answer.result:
        parts += [Text(""), Text("SQL", style="dim"), Text(answer.result.sql, style="cyan")]
    title = answer.name or ""
    if answer.kind == "guide" and answer.section:
        title = f"{title} › {answer.section}"
    return Panel(Group(*parts), title=Text(title, style="bold"), title_align="left",
                 border_style="yellow" if answer.notice else "cyan")


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
    """A metric's value, period and target, its breakdown table, and the SQL behind it."""
    parts: list[RenderableType] = [_value_line(result)]
    if result.filters:
        where = ", ".join(f"{d} = {v}" for d, v in result.filters.items())
        parts.append(Text.assemble(("Where: ", "dim"), where))
    if result.rows:
        table = Table(*result.dimensions, result.name, box=None, pad_edge=False)
        for row in result.rows:
            table.add_row(*[row.dimensions.get(d) or "(none)" for d in result.dimensions],
                          row.formatted)
        parts.append(table)
    if sql:
        parts += [Text("SQL", style="dim"), Text(result.sql, style="cyan")]
    return Group(*parts)


def _value_line(result: MetricResult) -> Text:
    line = Text.assemble((f"{result.name}: ", "bold"), (result.formatted, "bold green"))
    if result.period:
        end = result.period.end.toordinal() - 1
        last = type(result.period.end).fromordinal(end)
        line.append(f"  {result.period.label} ({result.period.start} – {last})", style="dim")
    if result.target:
        met = {True: ("✓ on target", "green"), False: ("✗ off target", "red"),
               None: ("target", "dim")}[result.target.met]
        line.append(f"  target {result.target.formatted} ", style="dim").append(*met)
    if result.demo:
        line.append(f"  {DEMO}", style="bold yellow")
    return line
