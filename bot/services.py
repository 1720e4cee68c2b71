"""The one entry point every surface calls: a question in, an `Answer` out."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.answer import Answer
from knowledge.service import KnowledgeBase
from metrics.audience import Audience

PUBLIC = Audience()


@dataclass
class Services:
    """Routes a question to the glossary or the metric engine; surfaces only render."""

    knowledge: KnowledgeBase
    metrics: object | None = None

    def ask(self, question: str, audience: Audience = PUBLIC) -> Answer:
        """Answer a question in plain words: a definition, a guide, a metric, or no answer."""
        return self.knowledge.ask(question)

    def define(self, term: str) -> Answer:
        """The governed definition of a term id or alias (raises `UnknownTerm`)."""
        return self.knowledge.define(term)

    def metric(self, request: str, audience: Audience = PUBLIC) -> Answer:
        """`ID-or-question [period] [by DIM] [where DIM=VALUE]` as a metric answer."""
        return Answer(kind="no_answer", question=request, message="Metrics are not available yet.")
