"""Render an Answer for a terminal: a pure function from Answer to rich renderables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from knowledge.answer import Answer


def render_answer(answer: Answer) -> RenderableType:
    """A panel with the governed text and its provenance, or the no-answer suggestions."""
    if answer.kind == "no_answer":
        return _no_answer(answer)
    if answer.kind == "metric" and answer.result:
        from bot.render_metric import render_metric

        return render_metric(answer)
    parts: list[RenderableType] = []
    if answer.notice:
        parts.append(Text(answer.notice, style="bold yellow"))
    parts.append(Text(answer.definition or ""))
    if answer.detail:
        parts += [Text(""), Text(answer.section or "", style="bold"), Markdown(answer.detail)]
    parts += [Text(""), _provenance(answer)]
    if answer.related:
        related = ", ".join(f"{r.name} ({r.id})" for r in answer.related)
        parts.append(Text.assemble(("Related: ", "dim"), related))
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
