"""`ssot chat`: the bot in a terminal, over the same `Services` and answers as every surface."""

from __future__ import annotations

import logging
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from bot.render_text import render_answer
from bot.services import SORRY, Services
from knowledge.answer import Answer
from knowledge.errors import UserFacingError
from knowledge.service import KnowledgeBase

log = logging.getLogger(__name__)
HELP = (
    "Ask anything about our revenue terms, e.g. [bold]what is an MQL?[/], "
    "[bold]who owns pipeline coverage[/], [bold]exit criteria for the proposal stage[/].\n"
    "Commands: [bold]/define TERM[/]  [bold]/metric ID-or-question \\[period] \\[by DIM] "
    "\\[where DIM=VALUE][/]  [bold]/reload[/] (re-read the glossary)  [bold]/help[/]  "
    "[bold]/quit[/]"
)


def run_console(services: Services | KnowledgeBase, console: Console,
                record: Callable[[Answer], None] | None = None) -> None:
    """Read questions until /quit or end of input; `record` keeps the unanswered ones."""
    if isinstance(services, KnowledgeBase):
        services = Services(knowledge=services)
    kb = services.knowledge
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
            console.print(respond(services, line, record))


def respond(services: Services | KnowledgeBase, line: str,
            record: Callable[[Answer], None] | None = None):
    """One console turn: a command or a question, rendered; user errors become a message.

    Strings returned here are rich markup: whatever the user typed is escaped into them, so
    `/define [/x]` is a term nobody defined, not a closing tag.
    """
    if isinstance(services, KnowledgeBase):
        services = Services(knowledge=services)
    command, _, rest = line.partition(" ")
    try:
        if command == "/help":
            return HELP
        if command == "/define":
            return _shown(services.define(rest), record)
        if command == "/metric":
            return render_answer(services.metric(rest))
        if command == "/reload":
            return _reload(services.knowledge)
        if command.startswith("/"):
            return f"[red]unknown command {escape(command)}[/]. {HELP}"
        return _shown(services.ask(line), record)
    except UserFacingError as exc:
        message = str(exc)
        if getattr(exc, "suggestions", None):
            message += f" Did you mean: {', '.join(exc.suggestions)}?"
        return f"[red]{escape(message)}[/]"
    except Exception:  # the console stays up; the cause goes to the log
        log.exception("console turn failed: %r", line[:200])
        return f"[red]{escape(SORRY)}[/]"


def _shown(answer: Answer, record: Callable[[Answer], None] | None):
    if record is not None:
        record(answer)
    return render_answer(answer)


def _reload(kb: KnowledgeBase) -> str:
    result = kb.reload()
    if result.accepted:
        return f"reloaded: {len(kb.glossary)} documents"
    problems = escape("\n".join(map(str, result.issues)))
    return f"[red]kept the last good glossary;[/] the new one has problems:\n{problems}"
