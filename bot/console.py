"""`ssot chat`: the bot in a terminal, over the same core and answers as every surface."""

from __future__ import annotations

from rich.console import Console
from rich.prompt import Prompt

from bot.render_text import render_answer
from knowledge.errors import UserFacingError
from knowledge.service import KnowledgeBase

HELP = (
    "Ask anything about our revenue terms, e.g. [bold]what is an MQL?[/], "
    "[bold]who owns pipeline coverage[/], [bold]exit criteria for the proposal stage[/].\n"
    "Commands: [bold]/define TERM[/]  [bold]/reload[/] (re-read the glossary)  "
    "[bold]/help[/]  [bold]/quit[/]"
)


def run_console(kb: KnowledgeBase, console: Console) -> None:
    """Read questions until /quit or end of input."""
    console.print(f"[bold cyan]ssot[/] · {len(kb.glossary.terms)} governed terms, "
                  f"{len(kb.glossary.guides)} guides. {HELP}")
    while True:
        try:
            line = Prompt.ask("[bold cyan]you[/]", console=console).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if line in ("/quit", "/exit", "/q"):
            return
        if line:
            console.print(respond(kb, line))


def respond(kb: KnowledgeBase, line: str):
    """One console turn: a command or a question, rendered; user errors become a message."""
    command, _, rest = line.partition(" ")
    try:
        if command == "/help":
            return HELP
        if command == "/define":
            return render_answer(kb.define(rest))
        if command == "/reload":
            result = kb.reload()
            if result.accepted:
                return f"reloaded: {len(kb.glossary)} documents"
            problems = "\n".join(map(str, result.issues))
            return f"[red]kept the last good glossary;[/] the new one has problems:\n{problems}"
        if command.startswith("/"):
            return f"[red]unknown command {command}[/]. {HELP}"
        return render_answer(kb.ask(line))
    except UserFacingError as exc:
        message = str(exc)
        if getattr(exc, "suggestions", None):
            message += f" Did you mean: {', '.join(exc.suggestions)}?"
        return f"[red]{message}[/]"
