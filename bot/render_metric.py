"""Render a metric Answer for a terminal: value, period, target, breakdown table and SQL."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from knowledge.answer import Answer


def render_metric(answer: Answer) -> RenderableType:
    """The same facts the Slack message shows, in a panel."""
    result = answer.result
    parts: list[RenderableType] = [Text(result.formatted, style="bold")]
    if result.period:
        parts[0].append(f"   {result.period.label} ({result.period.start} to "
                        f"{result.period.end} exclusive)", style="")
    if result.filters:
        parts.append(Text("Where " + ", ".join(f"{k} = {v}" for k, v in result.filters.items())))
    if result.target:
        word = "at least" if result.target.direction == "at_least" else "at most"
        status = {True: "on target", False: "off target", None: "no status"}[result.target.met]
        parts.append(Text(f"Target {word} {result.target.formatted}: {status}",
                          style={True: "green", False: "red"}.get(result.target.met, "")))
    if result.rows:
        table = Table(*result.dimensions, result.name, box=None)
        for row in result.rows:
            table.add_row(*[row.dimensions.get(d) or "(none)" for d in result.dimensions],
                          row.formatted)
        parts += [Text(""), table]
    if answer.definition:
        parts += [Text(""), Text(answer.definition)]
    if answer.owner:
        parts.append(Text.assemble(("Owner: ", "dim"), answer.owner))
    parts += [Text(""), Text("SQL", style="dim"), Syntax(result.sql, "sql", word_wrap=True)]
    return Panel(Group(*parts), title=Text(result.name, style="bold"), title_align="left",
                 border_style="cyan")
