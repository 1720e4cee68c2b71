"""From a request to a reply: ask the core, remember what the glossary lacks, decide privacy.

Every surface calls `Replies` with what was asked and `Where` it was asked, and renders the
`Reply` that comes back; nothing here knows a chat platform, so every reply can be built and
checked without one.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable

from bot.chat.asked import Asked
from bot.chat.markup import escape
from bot.chat.reply import Reply, Where, message, never_silent
from bot.chat.words import SLASH, Words
from bot.services import Services
from bot.state.recorder import Recorder
from bot.state.store import StateStore
from knowledge.answer import Answer
from knowledge.mentions import find_mentions, looks_definitional
from metrics.audience import Audience

log = logging.getLogger(__name__)
_AS_OF = re.compile(r"^(?P<term>.+?)\s+as\s+of\s+(?P<date>\S+)\s*$", re.IGNORECASE)
EXPIRED = "That button has expired; ask again."


class Replies:
    """Every reply a chat surface sends, built from `Services` and the state store."""

    def __init__(self, services: Services, store: StateStore,
                 docs_base_url: str | None = None, owners: frozenset[str] = frozenset(),
                 audience: Callable[[Where], Audience] | None = None,
                 conversation: Callable[[Where], Audience] | None = None,
                 recorder: Recorder | None = None, words: Words = SLASH) -> None:
        self.services = services
        self.store = store
        if services.history is None:  # `define … as of` reads the history this store keeps
            services.history = lambda: store
        self.docs_base_url = docs_base_url
        self.owners = owners  # user ids of the glossary owners (SSOT_OWNERS)
        # Channel names and user groups, looked up on the platform (e.g. bot/slack/audience.py).
        self.audience = audience or (lambda where: where.asker)
        # Who reads the conversation: its channel alone, whatever groups the asker is in.
        self.conversation = conversation or (lambda where: where.audience)
        # Gaps and feedback are written after the reply, never in its way.
        self.recorder = recorder or Recorder()
        self.words = words

    @never_silent
    def ask(self, text: str, where: Where, *, shareable: bool = False) -> Reply:
        """A question in plain words."""
        answer = self.services.ask(text, self.audience(where), with_sql=False)
        return self._reply(answer, Asked(via="ask", text=text), where, shareable)

    @never_silent
    def define(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`define TERM` or `define TERM as of YYYY-MM-DD`."""
        found = _AS_OF.match(text.strip())
        if found:
            return self.define_as_of(found["term"], found["date"], where, shareable)
        if not text.strip():
            return message(f"Usage: `{self.words.define} TERM` or "
                           f"`{self.words.define} TERM as of YYYY-MM-DD`.")
        answer = self.services.define(text, self.audience(where))
        return self._reply(answer, Asked(via="define", text=text), where, shareable)

    @never_silent
    def define_as_of(self, term: str, date: str, where: Where, shareable: bool) -> Reply:
        """The definition that was in force on a day, from the recorded history."""
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            return message(f"'{escape(date)}' is not a date: write it as YYYY-MM-DD, "
                           "e.g. 2025-03-01.")
        answer = self.services.define(term, self.audience(where), as_of=day)
        if answer.kind == "no_answer":  # the history has no such version: nothing to record
            return message(answer.message or "No definition was recorded for that day.")
        return self._reply(answer, Asked(via="define", text=f"{term} as of {day}"), where,
                           shareable)

    @never_silent
    def metric(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`metric ID-or-question [period] [by DIM] [where DIM=VALUE]`."""
        if not text.strip():
            return message(f"Usage: `{self.words.metric} ID-or-question [period] [by DIM] "
                           f"[where DIM=VALUE]`, e.g. `{self.words.metric} pipeline coverage "
                           "this quarter by segment`.")
        answer = self.services.metric(text, self.audience(where), with_sql=False)
        return self._reply(answer, Asked(via="metric", text=text), where, shareable)

    @never_silent
    def again(self, asked: Asked, where: Where, *, shareable: bool = False) -> Reply:
        """The reply to a request carried by a button (Share in channel, a related term)."""
        handler = {"ask": self.ask, "define": self.define, "metric": self.metric}[asked.via]
        return handler(asked.text, where, shareable=shareable)

    @never_silent
    def sql(self, asked: Asked | None, where: Where) -> Reply:
        """The SQL behind a metric answer."""
        if asked is None:
            return message(EXPIRED)
        answer = self.services.metric(asked.text, self.audience(where))
        if answer.result is None:
            return message(answer.message or "That metric cannot be computed right now, so "
                           "there is no SQL to show.")
        return Reply(text=answer.result.sql, sql=answer.result)

    @never_silent
    def feedback(self, asked: Asked | None, helpful: bool, where: Where) -> Reply:
        """Store a Helpful / Not helpful click with the question and the answer id."""
        if asked is None:
            return message(EXPIRED)
        write = functools.partial(self.store.record_feedback, surface=where.surface)
        self.recorder.record(write, asked.text, asked.answer_id, helpful, where.user,
                             where.channel)
        if helpful:
            return message("Thanks, glad it helped.")
        return message("Thanks: noted for the glossary owners as a question to answer better.")

    @never_silent
    def explain(self, text: str) -> Reply:
        """One line per governed term a message mentions."""
        glossary = self.services.knowledge.glossary
        lines = []
        for mention in find_mentions(text, glossary):
            term = glossary.terms[mention.term_id]
            status = "" if term.status == "approved" else f" _({term.status})_"
            lines.append(f"• *{escape(term.name)}*{status}: "
                         f"{escape(first_sentence(term.definition))}")
        if not lines:
            return message("This message mentions no governed terms.")
        return message("\n".join(["*Governed terms in this message*", *lines]))

    def autoanswer(self, text: str, where: Where) -> Reply | None:
        """An unprompted answer in a channel with autoanswer on: definitional and confident.

        Nobody asked the bot, so it answers for the channel (its audience alone) or not at
        all: a failure here is logged and stays quiet.
        """
        if not where.channel or not looks_definitional(text):
            return None
        try:
            if not self.store.autoanswer(where.channel, surface=where.surface):
                return None
            answer = self.services.ask(text, self.conversation(where), with_sql=False)
            reply = self._reply(answer, Asked(via="ask", text=text), where, False, record=False)
        except Exception:
            log.exception("autoanswer failed in %s", where.channel)
            return None
        return reply if reply.confident and not reply.private else None

    def _reply(self, answer: Answer, asked: Asked, where: Where, shareable: bool,
               record: bool = True) -> Reply:
        if answer.kind == "no_answer" and record and answer.question:
            write = functools.partial(self.store.record_unanswered, surface=where.surface)
            self.recorder.record(write, asked.text, where.user, where.channel)
        private = self._restricted_here(answer, where)
        asked = asked.model_copy(update={"answer_id": answer_id(answer)})
        return Reply(answer=answer, asked=asked, private=private,
                     shareable=shareable and not private)

    def _restricted_here(self, answer: Answer, where: Where) -> bool:
        """Whether the answer shows a value that the conversation's audience may not see."""
        engine = self.services.metrics
        if answer.result is None or engine is None or where.direct:
            return False
        return not engine.may_see(answer.result.metric, self.conversation(where))


def answer_id(answer: Answer) -> str | None:
    """The id feedback is stored under: the term, guide or metric answered, if any."""
    return answer.id or (answer.result.metric if answer.result else None)


def summary(answer: Answer) -> str:
    """The answer in plain text, where a surface cannot show its layout (notifications,
    screen readers, old clients); each surface cuts it to its own limit."""
    if answer.kind == "no_answer":
        return answer.message or "No governed answer."
    if answer.kind == "metric" and answer.result:
        result = answer.result
        period = f" ({result.period.label})" if result.period else ""
        return f"{result.interpretation or result.name + period}: {result.formatted}"
    if answer.kind == "comparison":
        return "\n".join(f"{s.name}: {s.definition or ''}" for s in answer.compared)
    return f"{answer.name}: {answer.definition or ''}"


def first_sentence(text: str) -> str:
    """The definition's first sentence: enough for a one-line explanation."""
    found = re.search(r"(?<=[.!?])\s", text)
    return text[: found.start()] if found else text
