"""The one entry point every surface calls: a question in, an `Answer` out."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.current_values import CurrentValues
from knowledge.answer import Answer, Ref, Source, Suggestion
from knowledge.errors import InvalidQuestion, UnknownTerm, UserFacingError
from knowledge.glossary import Glossary
from knowledge.question import clean_question
from knowledge.service import KnowledgeBase
from metrics.audience import PUBLIC, Audience
from metrics.catalog import Catalog, check_definitions
from metrics.definitions import Metric
from metrics.engine import MetricEngine
from metrics.errors import MetricUserError, UnknownMetric, WarehouseUnavailable
from metrics.questions import MetricQuestion, NotUnderstood, asks_for_number, parse_question
from metrics.vocabulary import Vocabulary, build_vocabulary

log = logging.getLogger(__name__)
# What every surface says when something inside an answer failed (the cause goes to the log).
SORRY = ("Sorry, something went wrong on my side while answering that. "
         "It has been logged; please try again in a minute.")


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: whether the files were taken, their problems, and if anything changed."""

    accepted: bool
    issues: list[str]
    changed: bool = False


@dataclass
class Services:
    """Routes a question to the glossary or the metric engine; surfaces only render."""

    knowledge: KnowledgeBase
    metrics: MetricEngine | None = None
    docs_base_url: str | None = None
    # The value shown beside a definition is a courtesy, asked for by every "what is X?":
    # it may be this old (see CurrentValues). A metric question always runs its query.
    current_value_ttl_s: float = 60.0
    # Where the metric definitions are read from on reload (None: the catalogue is fixed).
    metrics_dir: Path | None = None
    # The recorded history of definitions (a `StateStore`, opened on first use), for
    # `define(term, as_of=…)`; None: only today's definitions are known.
    history: Callable[[], object] | None = None
    current_values: CurrentValues | None = field(init=False, repr=False)
    _phrases: tuple[Glossary, Catalog, Vocabulary] | None = field(default=None, init=False,
                                                                 repr=False)
    _refused: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.current_values = (CurrentValues(self.metrics, self.current_value_ttl_s)
                               if self.metrics is not None else None)

    def reload(self) -> Reloaded:
        """Serve the files as they are now; an invalid set is refused and the last good one kept.

        The glossary and the metric catalogue are checked against each other, so a metric that
        names a term the new glossary lacks refuses both rather than serving half a change.
        """
        knowledge = self.knowledge.reload()
        if not knowledge.accepted:
            return Reloaded(False, [str(i) for i in knowledge.issues])
        if self.metrics is None or self.metrics_dir is None:
            return Reloaded(True, [], knowledge.changed)
        catalog, issues = check_definitions(self.metrics_dir, self.knowledge.glossary.terms)
        if catalog is None:
            problems = "; ".join(map(str, issues[:5]))
            level = logging.DEBUG if problems == self._refused else logging.WARNING
            self._refused = problems
            log.log(level, "metric definitions reload rejected, still serving the last good "
                    "set: %s", problems)
            return Reloaded(False, [str(i) for i in issues])
        self._refused = None
        if catalog == self.metrics.catalog:  # the definitions and the words for values
            return Reloaded(True, [], knowledge.changed)
        self.metrics.catalog = catalog
        if self.current_values is not None:
            self.current_values.forget()  # values of the old definitions
        return Reloaded(True, [], True)

    def ask(self, question: str, audience: Audience = PUBLIC, *, with_sql: bool = True
            ) -> Answer:
        """A definition, a guide, a metric, or no answer with a message saying why.

        `with_sql=False`: a metric answer carries no SQL text, for a surface that shows it only
        when asked (pretty-printing it costs more than the query).
        """
        try:
            question = clean_question(question)
        except InvalidQuestion as exc:
            return Answer(kind="no_answer", question="", message=str(exc))
        parsed = None
        try:
            parsed = self._parse(question, force=False, audience=audience)
            if parsed is not None:
                return self._metric_answer(question, parsed, audience, with_sql)
        except WarehouseUnavailable as exc:
            if parsed is None:
                return Answer(kind="no_answer", question=question, message=str(exc))
            return self._definition_instead(question, parsed.metric, str(exc))
        except MetricUserError as exc:
            return Answer(kind="no_answer", question=question, message=str(exc))
        answer = self.knowledge.ask(question)
        if self.metrics is not None and asks_for_number(question, self.metrics.calendar()):
            # No governed metric reads the question: its definition, but not a number for
            # something else ("how many deals did we lose" is not the win rate).
            return answer
        return self._with_current_value(answer, audience)

    def define(self, term: str, audience: Audience = PUBLIC, as_of: dt.date | None = None
               ) -> Answer:
        """The governed definition of a term id, name or alias, today or in force on `as_of`.

        A term nobody defined is a no_answer with the closest names as suggestions.
        """
        try:
            term = clean_question(term)
            if as_of is not None:
                return self._define_as_of(term, as_of)
            return self._with_current_value(self.knowledge.define(term), audience)
        except UnknownTerm as exc:
            return Answer(kind="no_answer", question=term, message=str(exc),
                          suggestions=tuple(Suggestion(id=name, name=name, score=0.0)
                                            for name in exc.suggestions))
        except UserFacingError as exc:
            return Answer(kind="no_answer", question=term, message=str(exc))

    def _define_as_of(self, term: str, on: dt.date) -> Answer:
        from bot.state.as_of import answer_as_of
        from bot.state.errors import NotRecorded

        if self.history is None:
            return Answer(kind="no_answer", question=term,
                          message="No definition history is kept here.")
        try:
            return answer_as_of(self.history(), term, on, self.docs_base_url)
        except NotRecorded as exc:
            return Answer(kind="no_answer", question=f"{term} as of {on}",
                          message=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")

    def metric(self, request: str, audience: Audience = PUBLIC, *, with_sql: bool = True
               ) -> Answer:
        """`ID-or-question [period] [by DIM] [where DIM=VALUE]`; problems become a no_answer."""
        if self.metrics is None:
            return Answer(kind="no_answer", question=request,
                          message="No warehouse is configured, so metrics are unavailable.")
        parsed = None
        try:
            request = clean_question(request)
            parsed = self._parse(request, force=True, audience=audience)
            if parsed is None:
                self.metrics.find(request.split()[0])  # raises, with the closest metrics
                raise UnknownMetric(f"no governed metric in '{request}'")
            return self._metric_answer(request, parsed, audience, with_sql)
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

    def _vocabulary(self) -> Vocabulary:
        # Built from the glossary and catalogue being served: a reload that adds an alias or a
        # metric routes by it.
        glossary, catalog = self.knowledge.glossary, self.metrics.catalog
        cached = self._phrases
        if cached is None or cached[0] is not glossary or cached[1] is not catalog:
            cached = (glossary, catalog, build_vocabulary(glossary.terms, catalog))
            self._phrases = cached
        return cached[2]

    def _parse(self, text: str, force: bool, audience: Audience = PUBLIC
               ) -> MetricQuestion | None:
        """The metric question in `text`; one only partly understood is refused, and one about
        a metric the asker may not see says so first (where to ask), whatever its words."""
        if self.metrics is None:
            return None
        engine = self.metrics

        def values(metric_id: str, dim: str) -> dict[str, str]:
            try:
                return engine.dimension_values(engine.catalog[metric_id], dim)
            except MetricUserError:
                return {}

        try:
            return parse_question(text, self._vocabulary().phrases, engine.calendar(),
                                  engine.catalog, values, force=force)
        except NotUnderstood as exc:
            engine.plan(exc.metric, audience=audience)  # raises Restricted outside its audience
            raise

    def _metric_answer(self, question: str, parsed: MetricQuestion, audience: Audience,
                       with_sql: bool = True) -> Answer:
        engine = self.metrics
        plan = engine.plan(parsed.metric, parsed.period, parsed.by, parsed.where, audience,
                           compare=parsed.compare)
        result = engine.run(plan, with_sql=with_sql)
        metric = plan.metric
        term = self.knowledge.glossary.terms.get(metric.glossary)
        return Answer(
            kind="metric", question=question, id=metric.id, name=metric.name,
            definition=metric.description, owner=str(metric.owner), status=metric.status,
            version=metric.version, updated=metric.updated, metric=metric.id,
            source=self._source(metric), score=1.0, result=result,
            related=(Ref(id=term.id, name=term.name),) if term else (),
            notice=self._vocabulary().notice(question, metric.id),
        )

    def _with_current_value(self, answer: Answer, audience: Audience) -> Answer:
        """A definition of a measured term shows this quarter's value beside it.

        The value is a courtesy: whatever goes wrong computing it, the definition still
        answers, and says why the number is missing when people would expect one.
        """
        if answer.kind != "definition" or not answer.metric or self.current_values is None:
            return answer
        try:
            result = self.current_values.get(answer.metric, audience)
        except WarehouseUnavailable as exc:
            return _with_notice(answer, f"No current value: {exc}")
        except MetricUserError as exc:  # restricted here, or not computable for this term
            log.info("no current value for %s: %s", answer.metric, exc)
            return answer
        except Exception:
            log.exception("computing the current value of %s failed", answer.metric)
            return _with_notice(answer, "No current value: it could not be computed just now.")
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


def _with_notice(answer: Answer, notice: str) -> Answer:
    """The answer with one more notice line (a deprecated term keeps its own notice first)."""
    joined = f"{answer.notice} {notice}" if answer.notice else notice
    return answer.model_copy(update={"notice": joined})
