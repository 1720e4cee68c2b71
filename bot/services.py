"""The one entry point every surface calls: a question in, an `Answer` out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.current_values import CurrentValues
from knowledge.answer import Answer, Ref, Source, Suggestion
from knowledge.errors import InvalidQuestion
from knowledge.glossary import Glossary
from knowledge.question import clean_question
from knowledge.service import KnowledgeBase
from metrics.audience import PUBLIC, Audience
from metrics.definitions import Metric
from metrics.engine import MetricEngine
from metrics.errors import MetricUserError, UnknownMetric, WarehouseUnavailable
from metrics.questions import MetricQuestion, Phrases, parse_question

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Routes a question to the glossary or the metric engine; surfaces only render."""

    knowledge: KnowledgeBase
    metrics: MetricEngine | None = None
    docs_base_url: str | None = None
    # The value shown beside a definition is a courtesy, asked for by every "what is X?":
    # it may be this old (see CurrentValues). A metric question always runs its query.
    current_value_ttl_s: float = 60.0
    current_values: CurrentValues | None = field(init=False, repr=False)
    _phrases: tuple[Glossary, Phrases] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.current_values = (CurrentValues(self.metrics, self.current_value_ttl_s)
                               if self.metrics is not None else None)

    def ask(self, question: str, audience: Audience = PUBLIC) -> Answer:
        """A definition, a guide, a metric, or no answer (raises InvalidQuestion)."""
        question = clean_question(question)
        parsed = None
        try:
            parsed = self._parse(question, force=False)
            if parsed is not None:
                return self._metric_answer(question, parsed, audience)
        except WarehouseUnavailable as exc:
            if parsed is None:
                return Answer(kind="no_answer", question=question, message=str(exc))
            return self._definition_instead(question, parsed.metric, str(exc))
        except MetricUserError as exc:
            return Answer(kind="no_answer", question=question, message=str(exc))
        answer = self.knowledge.ask(question)
        return self._with_current_value(answer, audience)

    def define(self, term: str, audience: Audience = PUBLIC) -> Answer:
        """The governed definition of a term id or alias (raises `UnknownTerm`)."""
        return self._with_current_value(self.knowledge.define(term), audience)

    def metric(self, request: str, audience: Audience = PUBLIC) -> Answer:
        """`ID-or-question [period] [by DIM] [where DIM=VALUE]`; problems become a no_answer."""
        if self.metrics is None:
            return Answer(kind="no_answer", question=request,
                          message="No warehouse is configured, so metrics are unavailable.")
        parsed = None
        try:
            request = clean_question(request)
            parsed = self._parse(request, force=True)
            if parsed is None:
                self.metrics.find(request.split()[0])  # raises, with the closest metrics
                raise UnknownMetric(f"no governed metric in '{request}'; `ssot metrics` lists "
                                    "them")
            return self._metric_answer(request, parsed, audience)
        except InvalidQuestion as exc:
            return Answer(kind="no_answer", question="", message=str(exc))
        except WarehouseUnavailable as exc:
            if parsed is None:
                return Answer(kind="no_answer", question=request, message=str(exc))
            return self._definition_instead(request, parsed.metric, str(exc))
        except UnknownMetric as exc:
            return Answer(kind="no_answer", question=request, message=str(exc),
                          suggestions=self._suggest(exc.suggestions))
        except MetricUserError as exc:
            return Answer(kind="no_answer", question=request, message=str(exc))

    def _metric_phrases(self) -> Phrases:
        # Built from the glossary being served: a reload that adds an alias routes by it.
        glossary = self.knowledge.glossary
        cached = self._phrases
        if cached is None or cached[0] is not glossary:
            cached = (glossary, Phrases(self._vocabulary(glossary)))
            self._phrases = cached
        return cached[1]

    def _vocabulary(self, glossary: Glossary) -> dict[str, str]:
        """Every phrase that names a metric: its id, its name, its glossary term's aliases."""
        phrases: dict[str, str] = {}
        for metric in self.metrics.catalog if self.metrics is not None else ():
            term = glossary.terms.get(metric.glossary)
            names = [metric.id, metric.id.replace("_", " "), metric.name]
            if term is not None:
                names += [term.name, *term.aliases]
            for name in names:
                phrases.setdefault(name.lower(), metric.id)
        return phrases

    def _parse(self, text: str, force: bool) -> MetricQuestion | None:
        if self.metrics is None:
            return None
        engine = self.metrics

        def values(metric_id: str, dim: str) -> dict[str, str]:
            try:
                return engine.dimension_values(engine.catalog[metric_id], dim)
            except MetricUserError:
                return {}

        return parse_question(text, self._metric_phrases(), engine.calendar(), values,
                              lambda m: engine.catalog[m].dimensions, force=force)

    def _metric_answer(self, question: str, parsed: MetricQuestion, audience: Audience) -> Answer:
        engine = self.metrics
        plan = engine.plan(parsed.metric, parsed.period, parsed.by, parsed.where, audience)
        result = engine.run(plan)
        metric = plan.metric
        term = self.knowledge.glossary.terms.get(metric.glossary)
        return Answer(
            kind="metric", question=question, id=metric.id, name=metric.name,
            definition=metric.description, owner=str(metric.owner), status=metric.status,
            version=metric.version, updated=metric.updated, metric=metric.id,
            source=self._source(metric), score=1.0, result=result,
            related=(Ref(id=term.id, name=term.name),) if term else (),
        )

    def _with_current_value(self, answer: Answer, audience: Audience) -> Answer:
        """A definition of a measured term shows this quarter's value beside it."""
        if answer.kind != "definition" or not answer.metric or self.current_values is None:
            return answer
        try:
            result = self.current_values.get(answer.metric, audience)
        except MetricUserError as exc:
            log.info("no current value for %s: %s", answer.metric, exc)
            return answer
        return answer.model_copy(update={"result": result})

    def _definition_instead(self, question: str, metric_id: str, reason: str) -> Answer:
        """With the warehouse down, the governed definition still answers."""
        term = self.metrics.catalog[metric_id].glossary
        answer = self.knowledge.define(term)
        return answer.model_copy(update={"question": question,
                                         "notice": f"No current number: {reason}"})

    def _suggest(self, metric_ids: list[str]) -> tuple[Suggestion, ...]:
        return tuple(Suggestion(id=m, name=self.metrics.catalog[m].name, score=0.0)
                     for m in metric_ids if m in self.metrics.catalog)

    def _source(self, metric: Metric) -> Source:
        url = f"{self.docs_base_url.rstrip('/')}/{metric.path}" if self.docs_base_url else None
        return Source(path=metric.path, url=url)
