"""The knowledge core's front door: `ask` and `define`, answering from the last good glossary."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.answer import Answer, Ref, Source, Suggestion
from knowledge.chunking import chunk_glossary
from knowledge.embedding import Embedder
from knowledge.errors import UnknownTerm
from knowledge.glossary import Glossary, Reload, check_directory, load_glossary
from knowledge.loading import FileMemo, split_sections
from knowledge.models import Guide, Term
from knowledge.normalize import key
from knowledge.question import clean_question

if TYPE_CHECKING:  # imported when the index is first built: BM25 (with scipy) costs 0.1 s to load
    from knowledge.index import IndexMemo, SearchIndex
    from knowledge.retrieval import Candidate, Mode, Ranking, Retriever

log = logging.getLogger(__name__)
DEFAULT_THRESHOLD = 0.47
_CALCULATION = re.compile(r"\b(calculat|comput|formula|work(ed)? out|measur)", re.IGNORECASE)
MAX_SUGGESTIONS = 3


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
        snap = self._current()
        ranking = snap.retriever.rank(text, mode)
        top = ranking.top
        threshold = self.threshold if mode == "hybrid" else _BASELINE_THRESHOLDS[mode]
        if top is None or top.confidence < threshold:
            return self._no_answer(text, ranking, snap.glossary)
        return self._answer(text, top, ranking, snap)

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

    def _answer(self, question: str, top: Candidate, ranking: Ranking, snap: Snapshot) -> Answer:
        doc = snap.glossary.document(top.doc_id)
        chunk = snap.index.chunks[top.chunk] if top.chunk is not None else None
        section = chunk.section if chunk and chunk.doc_id == doc.id else None
        if isinstance(doc, Guide) and section is None:
            section = snap.retriever.best_section(doc.id, ranking.vector)
        elif isinstance(doc, Term) and _CALCULATION.search(question):
            section = "Formula"
        return self.render(doc, question=question, score=top.confidence, section=section)

    def _no_answer(self, question: str, ranking: Ranking, glossary: Glossary) -> Answer:
        suggestions = tuple(
            Suggestion(id=c.doc_id, name=glossary.document(c.doc_id).name,
                       score=round(c.confidence, 4))
            for c in ranking.candidates[:MAX_SUGGESTIONS]
        )
        top = ranking.top
        return Answer(
            kind="no_answer", question=question, score=round(top.confidence, 4) if top else 0.0,
            suggestions=suggestions,
            message="No governed definition matches this question closely enough.",
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


def _notice(term: Term, replaced: Term | None) -> str | None:
    if term.status == "deprecated":
        target = f" Use {replaced.name} ({replaced.id}) instead." if replaced else ""
        return f"Deprecated: this definition is retired.{target}"
    if term.status == "draft":
        return "Draft: this definition is under review and not yet approved."
    return None
