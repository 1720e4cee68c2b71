"""From a request to a Slack reply: ask the core, remember what the glossary lacks, render.

Listeners translate Slack payloads into calls on `Replies` and send what comes back; nothing
here knows about Bolt, so every reply can be built and checked without a workspace.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.models.blocks import Block
from sqlalchemy.exc import SQLAlchemyError

from bot.services import SORRY, Services
from bot.slack import blocks
from bot.slack.asked import Asked
from bot.state.as_of import answer_as_of
from bot.state.errors import NotRecorded
from bot.state.recorder import Recorder
from bot.state.store import StateStore
from knowledge.answer import Answer, Suggestion
from knowledge.errors import UnknownTerm, UserFacingError
from knowledge.mentions import find_mentions, looks_definitional
from metrics.audience import Audience

log = logging.getLogger(__name__)
_AS_OF = re.compile(r"^(?P<term>.+?)\s+as\s+of\s+(?P<date>\S+)\s*$", re.IGNORECASE)


STORE_DOWN = ("Sorry, I could not do that just now: my own database is busy or unavailable. "
              "Please try again in a minute.")


def never_silent(method: Callable[..., Reply]) -> Callable[..., Reply]:
    """Any failure inside a reply becomes a short apology; the cause goes to the log."""

    @functools.wraps(method)
    def replied(*args, **kwargs) -> Reply:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:  # an outage, not a bug: one line is enough
            log.warning("%s: the state store failed: %s", method.__name__,
                        str(getattr(exc, "orig", None) or exc).splitlines()[0])
            return message(STORE_DOWN)
        except Exception:
            log.exception("%s failed", method.__name__)
            return message(SORRY)

    return replied


@dataclass(frozen=True)
class Reply:
    """What to send: blocks, the plain-text fallback, and the Answer when there is one.

    `private`: it carries a restricted value the conversation may not see, so it goes only
    to the person who asked (ephemeral), never to the channel or thread.
    """

    text: str
    blocks: list[Block]
    answer: Answer | None = None
    private: bool = False

    @property
    def confident(self) -> bool:
        """Governed text (a definition, two side by side, a guide): the only answers posted
        without being asked."""
        return self.answer is not None and self.answer.kind in ("definition", "comparison",
                                                                "guide")

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

    @property
    def direct(self) -> bool:
        """A DM with the bot: nobody but the asker reads it."""
        return (self.channel or "").startswith("D")


class Replies:
    """Every reply the Slack app sends, built from `Services` and the state store."""

    def __init__(self, services: Services, store: StateStore,
                 docs_base_url: str | None = None, owners: frozenset[str] = frozenset(),
                 audience: Callable[[Where], Audience] | None = None,
                 conversation: Callable[[Where], Audience] | None = None,
                 recorder: Recorder | None = None) -> None:
        self.services = services
        self.store = store
        self.docs_base_url = docs_base_url
        self.owners = owners  # Slack user ids of the glossary owners (SSOT_OWNERS)
        # Channel names and user groups, looked up in Slack (see bot/slack/audience.py).
        self.audience = audience or (lambda where: where.audience)
        # Who reads the conversation: its channel alone, whatever groups the asker is in.
        self.conversation = conversation or (lambda where: where.audience)
        # Gaps and feedback are written after the reply, never in its way.
        self.recorder = recorder or Recorder()

    @never_silent
    def ask(self, text: str, where: Where, *, shareable: bool = False) -> Reply:
        """A question in plain words."""
        asked = Asked(via="ask", text=text)
        try:
            answer = self.services.ask(text, self.audience(where), with_sql=False)
        except UserFacingError as exc:
            return message(str(exc))
        return self._reply(answer, asked, where, shareable)

    @never_silent
    def define(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`/define TERM` or `/define TERM as of YYYY-MM-DD`."""
        found = _AS_OF.match(text.strip())
        if found:
            return self.define_as_of(found["term"], found["date"], where, shareable)
        asked = Asked(via="define", text=text)
        try:
            answer = self.services.define(text, self.audience(where))
        except UnknownTerm as exc:
            answer = Answer(kind="no_answer", question=text, message=str(exc), suggestions=tuple(
                Suggestion(id=name, name=name, score=0.0) for name in exc.suggestions))
        except UserFacingError as exc:
            return message(f"{exc} Usage: `/define TERM` or `/define TERM as of YYYY-MM-DD`.")
        return self._reply(answer, asked, where, shareable)

    @never_silent
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

    @never_silent
    def metric(self, text: str, where: Where, *, shareable: bool = True) -> Reply:
        """`/metric ID-or-question [period] [by DIM] [where DIM=VALUE]`."""
        if not text.strip():
            return message("Usage: `/metric ID-or-question [period] [by DIM] [where DIM=VALUE]`,"
                           " e.g. `/metric pipeline coverage this quarter by segment`.")
        try:
            answer = self.services.metric(text, self.audience(where), with_sql=False)
        except UserFacingError as exc:
            return message(str(exc))
        return self._reply(answer, Asked(via="metric", text=text), where, shareable)

    @never_silent
    def again(self, asked: Asked, where: Where, *, shareable: bool = False) -> Reply:
        """The reply to a request carried by a button (Share in channel, Show SQL)."""
        handler = {"ask": self.ask, "define": self.define, "metric": self.metric}[asked.via]
        return handler(asked.text, where, shareable=shareable)

    @never_silent
    def sql(self, asked: Asked, where: Where) -> Reply:
        """The SQL behind a metric answer."""
        try:
            answer = self.services.metric(asked.text, self.audience(where))
        except UserFacingError as exc:
            return message(str(exc))
        if answer.result is None:
            return message(answer.message or "That metric cannot be computed right now, so "
                           "there is no SQL to show.")
        return Reply(text=answer.result.sql, blocks=blocks.sql_blocks(answer.result))

    @never_silent
    def feedback(self, asked: Asked, helpful: bool, where: Where) -> Reply:
        """Store a Helpful / Not helpful click with the question and the answer id."""
        self.recorder.record(self.store.record_feedback, asked.text, asked.answer_id, helpful,
                             where.user, where.channel)
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
            lines.append(f"• *{blocks.escape(term.name)}*{status}: "
                         f"{blocks.escape(first_sentence(term.definition))}")
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
            if not self.store.autoanswer(where.channel):
                return None
            answer = self.services.ask(text, self.conversation(where), with_sql=False)
            reply = self._reply(answer, Asked(via="ask", text=text), where, False, record=False)
        except UserFacingError:
            return None
        except Exception:
            log.exception("autoanswer failed in %s", where.channel)
            return None
        return reply if reply.confident and not reply.private else None

    def _reply(self, answer: Answer, asked: Asked, where: Where, shareable: bool,
               record: bool = True) -> Reply:
        if answer.kind == "no_answer" and record:
            self.recorder.record(self.store.record_unanswered, asked.text, where.user,
                                 where.channel)
        private = self._restricted_here(answer, where)
        return Reply(text=blocks.answer_text(answer),
                     blocks=blocks.answer_blocks(answer, asked,
                                                 shareable=shareable and not private),
                     answer=answer, private=private)

    def _restricted_here(self, answer: Answer, where: Where) -> bool:
        """Whether the answer shows a value that the conversation's audience may not see."""
        engine = self.services.metrics
        if answer.result is None or engine is None or where.direct:
            return False
        return not engine.may_see(answer.result.metric, self.conversation(where))


def message(text: str) -> Reply:
    """A plain reply with no Answer behind it (errors, confirmations, lists)."""
    return Reply(text=text[:3000], blocks=blocks.message_blocks(text))


def first_sentence(text: str) -> str:
    """The definition's first sentence: enough for a one-line explanation."""
    found = re.search(r"(?<=[.!?])\s", text)
    return text[: found.start()] if found else text
