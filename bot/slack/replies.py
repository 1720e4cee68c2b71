"""From a request to a Slack reply: ask the core, remember what the glossary lacks, render.

Listeners translate Slack payloads into calls on `Replies` and send what comes back; nothing
here knows about Bolt, so every reply can be built and checked without a workspace.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.services import Services
from bot.slack import blocks
from bot.slack.asked import Asked
from bot.state.as_of import answer_as_of
from bot.state.errors import NotRecorded
from bot.state.store import StateStore
from knowledge.answer import Answer, Suggestion
from knowledge.errors import UnknownTerm, UserFacingError
from knowledge.mentions import find_mentions, looks_definitional
from metrics.audience import Audience

_AS_OF = re.compile(r"^(?P<term>.+?)\s+as\s+of\s+(?P<date>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """What to send: blocks, the plain-text fallback, and the Answer when there is one."""

    text: str
    blocks: list[Block]
    answer: Answer | None = None

    @property
    def confident(self) -> bool:
        """A governed definition or guide: the only answers posted without being asked."""
        return self.answer is not None and self.answer.kind in ("definition", "guide")

    def as_kwargs(self) -> dict:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


@dataclass(frozen=True)
class Where:
    """Who asked and from which channel (the audience for restricted metrics)."""

    user: str | None = None
    channel: str | None = None
    channel_name: str | None = None

    @property
    def audience(self) -> Audience:
        return Audience(channel=self.channel_name or self.channel)


class Replies:
    """Every reply the Slack app sends, built from `Services` and the state store."""

    def __init__(self, services: Services, store: StateStore,
                 docs_base_url: str | None = None, owners: frozenset[str] = frozenset(),
                 audience: Callable[[Where], Audience] | None = None) -> None:
        self.services = services
        self.store = store
        self.docs_base_url = docs_base_url
        self.owners = owners  # Slack user ids of the glossary owners (SSOT_OWNERS)
        # Channel names and user groups, looked up in Slack (see bot/slack/audience.py).
        self.audience = audience or (lambda where: where.audience)

    def ask(self, text: str, where: Where, *, shareable: bool = False) -> Reply:
        """A question in plain words."""
        asked = Asked(via="ask", text=text)
        try:
            answer = self.services.ask(text, self.audience(where))
        except UserFacingError as exc:
            return message(str(exc))
        return self._reply(answer, asked, where, shareable)

    def define(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`/define TERM` or `/define TERM as of YYYY-MM-DD`."""
        found = _AS_OF.match(text.strip())
        if found:
            return self.define_as_of(found["term"], found["date"], where, shareable)
        asked = Asked(via="define", text=text)
        try:
            answer = self.services.define(text)
        except UnknownTerm as exc:
            answer = Answer(kind="no_answer", question=text, message=str(exc), suggestions=tuple(
                Suggestion(id=name, name=name, score=0.0) for name in exc.suggestions))
        except UserFacingError as exc:
            return message(f"{exc} Usage: `/define TERM` or `/define TERM as of YYYY-MM-DD`.")
        return self._reply(answer, asked, where, shareable)

    def define_as_of(self, term: str, date: str, where: Where, shareable: bool) -> Reply:
        """The definition that was in force on a day, from the recorded history."""
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            return message(f"'{date}' is not a date: write it as YYYY-MM-DD, e.g. 2025-03-01.")
        try:
            answer = answer_as_of(self.store, term, day, self.docs_base_url)
        except NotRecorded as exc:
            return message(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return self._reply(answer, Asked(via="define", text=f"{term} as of {day}"), where,
                           shareable)

    def metric(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`/metric ID-or-question [period] [by DIM] [where DIM=VALUE]`."""
        if not text.strip():
            return message("Usage: `/metric ID-or-question [period] [by DIM] [where DIM=VALUE]`,"
                           " e.g. `/metric pipeline coverage this quarter by segment`.")
        try:
            answer = self.services.metric(text, self.audience(where))
        except UserFacingError as exc:
            return message(str(exc))
        return self._reply(answer, Asked(via="metric", text=text), where, shareable)

    def again(self, asked: Asked, where: Where, *, shareable: bool = False) -> Reply:
        """The reply to a request carried by a button (Share in channel, Show SQL)."""
        handler = {"ask": self.ask, "define": self.define, "metric": self.metric}[asked.via]
        return handler(asked.text, where, shareable=shareable)

    def sql(self, asked: Asked, where: Where) -> Reply:
        """The SQL behind a metric answer."""
        answer = self.metric(asked.text, where, shareable=False).answer
        if answer is None or answer.result is None:
            return message("That metric cannot be computed right now, so there is no SQL to show.")
        return Reply(text=answer.result.sql, blocks=blocks.sql_blocks(answer.result))

    def feedback(self, asked: Asked, helpful: bool, where: Where) -> Reply:
        """Store a Helpful / Not helpful click with the question and the answer id."""
        self.store.record_feedback(asked.text, asked.answer_id, helpful, where.user, where.channel)
        if helpful:
            return message("Thanks, glad it helped.")
        return message("Thanks: noted for the glossary owners as a question to answer better.")

    def explain(self, text: str) -> Reply:
        """One line per governed term a message mentions."""
        glossary = self.services.knowledge.glossary
        lines = []
        for mention in find_mentions(text, glossary):
            term = glossary.terms[mention.term_id]
            status = "" if term.status == "approved" else f" _({term.status})_"
            lines.append(f"• *{blocks.escape(term.name)}*{status}: "
                         f"{blocks.escape(first_sentence(term.definition))}")
        if not lines:
            return message("This message mentions no governed terms.")
        return message("\n".join(["*Governed terms in this message*", *lines]))

    def autoanswer(self, text: str, where: Where) -> Reply | None:
        """An unprompted answer in a channel with autoanswer on: definitional and confident."""
        if not where.channel or not looks_definitional(text):
            return None
        if not self.store.autoanswer(where.channel):
            return None
        try:
            answer = self.services.ask(text, self.audience(where))
        except UserFacingError:
            return None
        reply = self._reply(answer, Asked(via="ask", text=text), where, False, record=False)
        return reply if reply.confident else None

    def _reply(self, answer: Answer, asked: Asked, where: Where, shareable: bool,
               record: bool = True) -> Reply:
        if answer.kind == "no_answer" and record:
            self.store.record_unanswered(asked.text, where.user, where.channel)
        return Reply(text=blocks.answer_text(answer),
                     blocks=blocks.answer_blocks(answer, asked, shareable=shareable),
                     answer=answer)


def message(text: str) -> Reply:
    """A plain reply with no Answer behind it (errors, confirmations, lists)."""
    return Reply(text=text[:3000], blocks=blocks.message_blocks(text))


def first_sentence(text: str) -> str:
    """The definition's first sentence: enough for a one-line explanation."""
    found = re.search(r"(?<=[.!?])\s", text)
    return text[: found.start()] if found else text
