"""The knowledge core's front door: `ask` and `define`, answering from the last good glossary."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.answer import Answer, Ref, Relation, Source, Suggestion
from knowledge.chunking import chunk_glossary
from knowledge.embedding import Embedder
from knowledge.errors import UnknownTerm
from knowledge.glossary import Glossary, Reload, check_directory, load_glossary
from knowledge.loading import FileMemo, split_sections
from knowledge.models import Guide, Term
from knowledge.normalize import key, subject
from knowledge.question import clean_question
from knowledge.sections import asked_section, moves_between, stage_named
from knowledge.two_terms import (
    TwoPhrases,
    completions,
    governing_guide,
    relating_lines,
    shown,
    titled_section,
    two_phrases,
)

if TYPE_CHECKING:  # imported when the index is first built: BM25 (with scipy) costs 0.1 s to load
    from knowledge.index import IndexMemo, SearchIndex
    from knowledge.retrieval import Candidate, Mode, Ranking, Retriever

log = logging.getLogger(__name__)
DEFAULT_THRESHOLD = 0.47
MAX_SUGGESTIONS = 3
# One side of a two-term question names a term by meaning alone only this close to it: a short
# phrase embeds noisily ("a prospect" is 0.53 from Lifecycle Stage, "opex" 0.50 from Opportunity).
SIDE_DENSE = 0.6


@dataclass(frozen=True)
class Snapshot:
    """A glossary with the indexes built from it; swapped whole on reload."""

    glossary: Glossary
    index: SearchIndex
    retriever: Retriever


class KnowledgeBase:
    """Answers questions from a validated glossary; keeps the last good one when edits break it."""

    def __init__(self, root: Path, embedder: Embedder, cache_dir: Path | None = None, *,
                 metric_ids: Callable[[], Iterable[str] | None] = lambda: None,
                 docs_base_url: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                 on_embed: Callable[[int, int], None] | None = None,
                 lazy_index: bool = False) -> None:
        """`lazy_index`: build the search index at the first question, not now (`define`
        needs only the glossary)."""
        self.root = root
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.threshold = threshold
        self._metric_ids = metric_ids
        self._docs_base_url = docs_base_url.rstrip("/") if docs_base_url else None
        self._lock = threading.Lock()
        # Reloads keep what the last build parsed, tokenized and embedded; one at a time.
        self._reloading = threading.Lock()
        self._refused: str | None = None
        self._files = FileMemo()
        self._indexed: IndexMemo | None = None
        self._first = load_glossary(root, metric_ids(), self._files)
        self._first_on_embed = on_embed
        self._snapshot: Snapshot | None = None
        if not lazy_index:
            self._current()

    @property
    def glossary(self) -> Glossary:
        snap = self._snapshot
        return snap.glossary if snap is not None else self._first

    @property
    def index(self) -> SearchIndex:
        return self._current().index

    def _current(self) -> Snapshot:
        """The snapshot being served, built from the first glossary if no question needed it yet."""
        snap = self._snapshot
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = self._build(self._first, self._first_on_embed)
                snap = self._snapshot
        return snap

    def reload(self, on_embed: Callable[[int, int], None] | None = None) -> Reload:
        """Re-read the directory; an invalid set is refused and the current one keeps serving."""
        with self._reloading:
            glossary, issues = check_directory(self.root, self._metric_ids(), self._files)
            if glossary is None:
                problems = "; ".join(map(str, issues[:5]))
                # Said once per set of problems, not on every periodic reload until fixed.
                level = logging.DEBUG if problems == self._refused else logging.WARNING
                self._refused = problems
                log.log(level, "glossary reload rejected, still serving the last good set: %s",
                        problems)
                return Reload(accepted=False, issues=issues)
            self._refused = None
            current = self.glossary  # the first one, while no question has built an index
            if glossary.terms == current.terms and glossary.guides == current.guides:
                return Reload(accepted=True, issues=[], changed=False)
            snapshot = self._build(glossary, on_embed)
            with self._lock:
                self._snapshot = snapshot
        return Reload(accepted=True, issues=[])

    def ask(self, question: str, mode: Mode = "hybrid") -> Answer:
        """The governed answer to a free-text question, or no_answer with suggestions."""
        text = clean_question(question)
        phrases = two_phrases(text)
        stage = stage_named(text)
        if mode == "hybrid" and phrases is None and stage is None:
            named = self._named_term(text)
            if named is not None:
                return named
        snap = self._current()
        if phrases is not None:
            answer = self._two_terms(text, phrases, snap, mode)
            if answer is not None:
                return answer
        if stage is not None:
            # "When does a lead become an MQL": the MQL term's criteria define that moment.
            term, score, _ = self._term_named(stage, snap, mode, strict=True)
            if term is not None:
                return self.render(term, question=text, score=score, section="Criteria")
        ranking = snap.retriever.rank(text, mode)
        if mode == "hybrid" and moves_between(text):
            answer = self._move_between(text, ranking, snap)
            if answer is not None:
                return answer
        top = ranking.top
        threshold = self.threshold if mode == "hybrid" else _BASELINE_THRESHOLDS[mode]
        if top is None or top.confidence < threshold:
            return self._no_answer(text, ranking, snap.glossary)
        if stage is not None and not snap.retriever.in_names_of(stage, top.doc_id):
            # A stage no term is named after ("negotiation", "customer"): the guide section
            # that is, rather than a document that only mentions it.
            titled = titled_section(stage, snap.glossary)
            if titled is not None:
                guide, section = titled
                return self.render(guide, question=text, score=top.confidence,
                                   section=section.title)
        return self._answer(text, top, ranking, snap, stage=stage is not None)

    def _named_term(self, text: str) -> Answer | None:
        """A question that only names a term ("what is an MQL?"), answered as ranking would
        answer it (an exact alias ranks alone, with no vector to choose a section by), without
        building the search index: a fresh process answers it without loading BM25 or vectors."""
        glossary = self.glossary
        term = glossary.terms.get(glossary.aliases.get(subject(text)) or "")
        if term is None:  # a guide's section is chosen from its indexed chunks
            return None
        return self.render(term, question=text, score=1.0, section=asked_section(text))

    def define(self, name: str) -> Answer:
        """The term an id, name or alias names exactly; raises UnknownTerm with suggestions."""
        text = clean_question(name)
        glossary = self.glossary
        term = glossary.lookup(text) or glossary.terms.get(text)
        if term is None:
            close = process.extract(key(text), list(glossary.aliases), limit=10,
                                    scorer=OSA.normalized_similarity, score_cutoff=0.6)
            names = [glossary.document(glossary.aliases[alias]).name for alias, *_ in close]
            raise UnknownTerm(f"No governed term is called '{text}'.",
                              list(dict.fromkeys(names))[:MAX_SUGGESTIONS])
        return self.render(term, question=text, score=1.0)

    def render(self, doc: Term | Guide, *, question: str = "", score: float = 1.0,
               section: str | None = None) -> Answer:
        """The Answer for a document (and, for a guide, one of its sections)."""
        glossary = self.glossary
        common = dict(
            question=question, id=doc.id, name=doc.name, owner=str(doc.owner), status=doc.status,
            version=doc.version, updated=doc.updated, score=round(score, 4),
            related=tuple(Ref(id=r, name=glossary.document(r).name) for r in doc.related
                          if glossary.document(r)),
        )
        if isinstance(doc, Guide):
            return _guide_answer(doc, section, common, self._source)
        detail = _section_text(doc, section)
        replaced = glossary.terms.get(doc.replaced_by or "")
        return Answer(
            kind="definition", definition=doc.definition, section=section if detail else None,
            detail=detail, domain=doc.domain, authoritative_system=doc.authoritative_system,
            metric=doc.metric, source=self._source(doc.path, None),
            replaced_by=Ref(id=replaced.id, name=replaced.name) if replaced else None,
            notice=_notice(doc, replaced), **common,
        )

    def _answer(self, question: str, top: Candidate, ranking: Ranking, snap: Snapshot,
                stage: bool = False) -> Answer:
        doc = snap.glossary.document(top.doc_id)
        chunk = snap.index.chunks[top.chunk] if top.chunk is not None else None
        section = chunk.section if chunk and chunk.doc_id == doc.id else None
        if isinstance(doc, Guide):
            if section is None:
                section = snap.retriever.best_section(doc.id, ranking.vector, question)
            term = snap.retriever.term_titled(section, question)
            if term is not None and term in snap.glossary.terms:
                # "What share of records get matched to an account" found the match rate
                # section of a KPI guide, yet asks what match rate is, not its target.
                return self.render(snap.glossary.terms[term], question=question,
                                   score=top.confidence)
        elif asked_section(question):
            section = asked_section(question)
        elif stage:
            section = "Criteria"
        elif section in (None, "Example") and snap.retriever.says_more(ranking, doc.id):
            # "Is a demo request an MQL?" asks about a rule: quote the part of the term that
            # states it. An example illustrates rather than decides, so only when asked for.
            section = snap.retriever.answering_section(doc.id, ranking, skip=("Example",))
        return self.render(doc, question=question, score=top.confidence, section=section)

    def _move_between(self, question: str, ranking: Ranking, snap: Snapshot) -> Answer | None:
        """A move back or past a stage, between the two terms the question names: the guide
        ruling both, at the section on the transition between them if it has one."""
        named = [c for c in ranking.candidates if c.alias > 0 and c.doc_id in snap.glossary.terms]
        if len(named) != 2:
            return None
        a, b = (snap.glossary.terms[c.doc_id] for c in named)
        found = governing_guide(a, b, snap.glossary)
        if found is None:
            return None
        guide, section = found
        title = section.title if section else snap.retriever.answering_section(guide.id, ranking)
        # As sure as the question names both terms, or as retrieval found the guide itself.
        found_guide = [c.confidence for c in ranking.candidates if c.doc_id == guide.id]
        score = max([min(c.confidence for c in named), *found_guide])
        return self.render(guide, question=question, score=score, section=title)

    def _two_terms(self, question: str, phrases: TwoPhrases, snap: Snapshot,
                   mode: Mode) -> Answer | None:
        """Both definitions side by side; one, and a word about the other, if only one is governed.

        None when neither phrase names a term: the question is then searched as a whole.
        """
        a, score_a, near_a = self._term_named(phrases.a, snap, mode, phrases.strict, phrases.b)
        b, score_b, near_b = self._term_named(phrases.b, snap, mode, phrases.strict, phrases.a)
        # "first-touch vs last-touch": the one named lends the other its last words.
        if mode == "hybrid" and a is not None and b is None:
            b, score_b, near_b = self._term_named(phrases.b, snap, mode, phrases.strict,
                                                  a.name, near_b)
        elif mode == "hybrid" and b is not None and a is None:
            a, score_a, near_a = self._term_named(phrases.a, snap, mode, phrases.strict,
                                                  b.name, near_a)
        if a is not None and b is not None and a.id != b.id:
            return self._comparison(question, (a, score_a), (b, score_b), snap.glossary)
        if a is not None and b is not None:
            answer = self.render(a, question=question, score=min(score_a, score_b))
            return _noted(answer, f"“{shown(phrases.a)}” and “{shown(phrases.b)}” are two names "
                                  "for the same governed term.")
        if a is None and b is None and not (phrases.strict or near_a or near_b):
            # "Gross margin vs net margin": nothing governed is about either of them, however
            # close the question as a whole comes to something (a score of 0 says so).
            answer = self._no_answer(question, snap.retriever.rank(question, mode),
                                     snap.glossary, f"Neither “{shown(phrases.a)}” nor "
                                     f"“{shown(phrases.b)}” is a governed term.")
            return answer.model_copy(update={"score": 0.0})
        if phrases.strict or (a is None and b is None):
            return None
        term, score, other, near = ((a, score_a, phrases.b, near_b) if a is not None
                                    else (b, score_b, phrases.a, near_a))
        answer = self.render(term, question=question, score=score)
        if near or not shown(other):
            # Something governed is about the other phrase, without naming it for sure; or
            # nothing else was named ("how is it different from an MQL").
            return answer
        return _noted(answer, f"“{shown(other)}” is not a governed term, so this is the "
                              f"definition of {term.name} alone.")

    def _term_named(self, phrase: str, snap: Snapshot, mode: Mode, strict: bool = False,
                    other: str = "", near: bool = False) -> tuple[Term | None, float, bool]:
        """The governed term a short phrase names, how sure that is, and whether any document
        is about the phrase at all (a guide, or a term not close enough to be sure of).

        `strict`: only by an alias (exactly or a typo away), never by meaning alone.
        """
        glossary, retriever = snap.glossary, snap.retriever
        if mode == "hybrid":
            for text in (phrase, *completions(phrase, other)):
                doc_id, similarity = retriever.named(text)
                if doc_id:  # a guide's name is no term: nothing to define
                    return glossary.terms.get(doc_id), similarity, True
            if strict or near:  # `near`: asked by meaning already
                return None, 0.0, near
        ranking = retriever.rank(phrase, mode)
        top = ranking.top
        if top is None:
            return None, 0.0, False
        if mode == "hybrid":
            # Near: something governed is about the phrase ("recycled": the lifecycle guide), or
            # it speaks the glossary's words ("originated": Marketing-Originated Revenue).
            near = ranking.exact or top.dense >= SIDE_DENSE or retriever.in_names(phrase)
            # By meaning alone, a phrase names a term only in the term's own words: "first-touch"
            # is First-Touch Attribution, "gross margin" is not Gross Revenue Retention.
            sure = ranking.exact or (near and top.confidence >= self.threshold
                                     and not retriever.says_more(ranking, top.doc_id))
        else:
            near = sure = top.confidence >= _BASELINE_THRESHOLDS[mode]
        if sure and top.doc_id in glossary.terms:
            return glossary.terms[top.doc_id], top.confidence, True
        return None, 0.0, near

    def _comparison(self, question: str, a: tuple[Term, float], b: tuple[Term, float],
                    glossary: Glossary) -> Answer:
        (term_a, score_a), (term_b, score_b) = a, b
        relations = []
        for line in relating_lines(term_a, term_b, glossary):
            doc = glossary.document(line.doc_id)
            relations.append(Relation(text=line.text, name=doc.name, section=line.section,
                                      source=self._source(doc.path, line.line)))
        return Answer(
            kind="comparison", question=question, id=term_a.id,
            name=f"{term_a.name} vs {term_b.name}", score=round(min(score_a, score_b), 4),
            compared=(self.render(term_a, question=question, score=score_a),
                      self.render(term_b, question=question, score=score_b)),
            relations=tuple(relations),
        )

    def _no_answer(self, question: str, ranking: Ranking, glossary: Glossary,
                   message: str = "No governed definition matches this question closely "
                                  "enough.") -> Answer:
        suggestions = tuple(
            Suggestion(id=c.doc_id, name=glossary.document(c.doc_id).name,
                       score=round(c.confidence, 4))
            for c in ranking.candidates[:MAX_SUGGESTIONS]
        )
        top = ranking.top
        return Answer(
            kind="no_answer", question=question, score=round(top.confidence, 4) if top else 0.0,
            suggestions=suggestions, message=message,
        )

    def _source(self, path: str, line: int | None) -> Source:
        url = f"{self._docs_base_url}/{path}" if self._docs_base_url else None
        if url and line:
            url += f"#L{line}"
        return Source(path=path, line=line, url=url)

    def _build(self, glossary: Glossary, on_embed) -> Snapshot:
        from knowledge.index import IndexMemo, SearchIndex
        from knowledge.retrieval import Retriever

        # Reloads keep what the last build tokenized and embedded.
        if self._indexed is None:
            self._indexed = IndexMemo()
        index = SearchIndex.build(chunk_glossary(glossary), self.embedder, self.cache_dir, on_embed,
                                  self._indexed)
        return Snapshot(glossary, index, Retriever(glossary, index, self.embedder))


# Baselines abstain on their own score scale: cosine for dense, raw BM25 for lexical.
_BASELINE_THRESHOLDS = {"dense": 0.35, "bm25": 3.0}


def _guide_answer(guide: Guide, section: str | None, common: dict, source) -> Answer:
    chosen = next((s for s in guide.sections if s.title == section), None)
    return Answer(
        kind="guide",
        definition=chosen.text if chosen else guide.summary,
        section=chosen.title if chosen else None,
        source=source(guide.path, chosen.line if chosen else None),
        **common,
    )


def _section_text(term: Term, section: str | None) -> str | None:
    """The verbatim body section a question matched (e.g. Formula for "how do we calculate")."""
    if not section:
        return None
    found = next((s for s in split_sections(term.body, 1) if s.title == section), None)
    return found.text if found else None


def _noted(answer: Answer, note: str) -> Answer:
    """The answer with one more notice (a deprecated term keeps its own notice first)."""
    joined = f"{answer.notice} {note}" if answer.notice else note
    return answer.model_copy(update={"notice": joined})


def _notice(term: Term, replaced: Term | None) -> str | None:
    if term.status == "deprecated":
        target = f" Use {replaced.name} ({replaced.id}) instead." if replaced else ""
        return f"Deprecated: this definition is retired.{target}"
    if term.status == "draft":
        return "Draft: this definition is under review and not yet approved."
    return None
