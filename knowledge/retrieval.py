"""Find the governed document a question is about: aliases (exact and fuzzy), BM25, dense.

Each signal scores candidate documents on its own scale; a weighted sum ranks them and a
confidence built from the two signals that mean "this is about X" (semantic similarity and an
alias naming X) decides between answering and abstaining. BM25 only breaks ties in ranking:
its scores are relative to the query, so they say nothing about whether to answer at all.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.embedding import Embedder
from knowledge.glossary import Glossary
from knowledge.index import SearchIndex
from knowledge.lexical import STEMMER
from knowledge.normalize import singular, subject, words
from knowledge.spelling import Speller
from knowledge.validation import term_phrases

Mode = Literal["hybrid", "dense", "bm25"]
TOP_K = 40
MAX_PHRASE = 6
FUZZY_MIN = 0.84


@dataclass(frozen=True)
class Weights:
    """How the signals combine: chosen by benchmarks/tune_fusion.py on half the eval set."""

    lexical: float = 0.3
    alias: float = 0.4
    alias_confidence: float = 0.6
    # An alias naming a term counts this much even when the question says a lot more.
    alias_floor: float = 0.3
    # Added to a guide's rank when the question asks how something is done, not what it is.
    # tune_fusion.py picks 0.25 on its half of the eval set; up to 0.35 answers the same.
    procedure: float = 0.25
    procedure_confidence: float = 0.05
    # Terms named alike ("Net Revenue Retention", "Gross Revenue Retention") are close in
    # meaning, so within this much of the top score the question's words decide between them.
    # Any value from 0.15 to 0.5 answers the eval set the same.
    twin_margin: float = 0.2


@dataclass
class Candidate:
    """A document with its ranking score, answer confidence, best passage and raw signals."""

    doc_id: str
    score: float = 0.0
    confidence: float = 0.0
    chunk: int | None = None
    dense: float = 0.0
    lexical: float = 0.0
    alias: float = 0.0


@dataclass
class Ranking:
    candidates: list[Candidate] = field(default_factory=list)
    exact: bool = False
    vector: np.ndarray | None = None
    # The question as searched (typos corrected), and the BM25 scores of its best chunks by
    # position, the best being 1.
    text: str = ""
    lexical: dict[int, float] = field(default_factory=dict)

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


# Words that frame a question rather than name its subject; they do not count when measuring
# how much of a question an alias covers ("who owns the MQL definition" is all about MQL).
_FRAME_TEXT = """
    a an the of for to in on at by is are was be it its this that these those and or vs
    versus what whats wat which who whom whose where when why how do does did we our us i
    me my you your they their can could should would will shall please pls define
    definition meaning mean means explain describe tell about exactly officially called
    call name metric term number figure kpi calculate calculated calculation compute
    computed formula measure measured work works own owns owner owned responsible
    difference between same thing stand stands anyway again get got use used there here
    just really actually mean s source truth system record authoritative live lives stored
    kept master data
"""
FRAME_WORDS = frozenset(singular(w) for w in _FRAME_TEXT.split())

# "Can a lead skip SAL?", "steps for handing over a lead": the question names terms, but it
# asks about a rule or a procedure, which a guide answers and a definition does not.
PROCEDURAL = re.compile(
    r"\b(?:can (?:i|we|you|a|an|the|it|they|someone)|how (?:do|can|should) (?:i|we)"
    r"|where (?:do|should|can) (?:i|we)|when (?:can|should|exactly|do|does)"
    r"|rules?|steps?|process|procedure|allowed|skip|go back|move|moving|propose"
    r"|has to be true|exit criteria|who (?:approves|can)|escalat\w*)\b",
    re.IGNORECASE,
)


class Retriever:
    """Ranks documents for a question; `mode` selects the hybrid or a single-signal baseline."""

    def __init__(self, glossary: Glossary, index: SearchIndex, embedder: Embedder,
                 weights: Weights | None = None) -> None:
        self.glossary = glossary
        self.index = index
        self.embedder = embedder
        self.weights = weights or Weights()
        # Alias keys by length: a fuzzy match at FUZZY_MIN can only be of similar length, so
        # each phrase is compared with a slice of the table rather than all of it.
        self._alias_keys = sorted(glossary.aliases, key=len)
        self._alias_lengths = [len(k) for k in self._alias_keys]
        alias_words = {w for k in glossary.aliases for w in k.split()}
        self.speller = Speller(alias_words, lambda w: w in alias_words or index.knows(w))
        self._alias_words = frozenset(alias_words)
        # Aliases by their words' stems ("churned" is "churn"), where only one document has it.
        stems: dict[str, set[str]] = {}
        for alias, doc_id in glossary.aliases.items():
            stems.setdefault(_stems(alias), set()).add(doc_id)
        self._alias_stems = {k: next(iter(ids)) for k, ids in stems.items() if len(ids) == 1}
        # An alias's first words ("marketing qualified"), where only one document has them.
        heads: dict[str, set[str]] = {}
        for alias, doc_id in glossary.aliases.items():
            parts = alias.split()
            for n in range(2, len(parts)):
                heads.setdefault(" ".join(parts[:n]), set()).add(doc_id)
        self._alias_heads = {k: next(iter(ids)) for k, ids in heads.items() if len(ids) == 1}
        self._names: dict[str, frozenset[str]] = {}
        self._twins = _twin_words(glossary)

    def rank(self, question: str, mode: Mode = "hybrid") -> Ranking:
        if mode == "hybrid":
            question = self.speller.correct(question)
            exact = self.glossary.aliases.get(subject(question))
            if exact:
                return Ranking([Candidate(exact, score=1.0, confidence=1.0, alias=1.0)], exact=True,
                               text=question)
        cands: dict[str, Candidate] = {}
        vector = None
        lexical: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            vector = self.embedder.encode([question])[0]
            for doc_id, score, pos in self._per_doc(self.index.search_dense(vector, TOP_K)):
                cands[doc_id] = Candidate(doc_id, dense=score, chunk=pos)
        if mode in ("hybrid", "bm25"):
            found = self.index.search_lexical(question, TOP_K)
            hits = self._per_doc(found)
            best = hits[0][1] if hits else 1.0
            lexical = {position: score / best for position, score in found}
            for doc_id, score, pos in hits:
                cand = cands.setdefault(doc_id, Candidate(doc_id, chunk=pos))
                cand.lexical = score if mode == "bm25" else score / best
        if mode == "hybrid":
            for doc_id, strength in self.alias_strengths(question).items():
                cands.setdefault(doc_id, Candidate(doc_id)).alias = strength
            self._fill_dense(cands.values(), vector)
        for cand in cands.values():
            self._score(cand, mode)
        if mode == "hybrid" and PROCEDURAL.search(question):
            for cand in cands.values():
                if cand.doc_id in self.glossary.guides:
                    cand.score += self.weights.procedure
                    cand.confidence = min(1.0, cand.confidence + self.weights.procedure_confidence)
        ordered = sorted(cands.values(), key=lambda c: -c.score)
        if mode == "hybrid":
            ordered = self._twin_first(ordered, question)
        return Ranking(ordered, vector=vector, text=question, lexical=lexical)

    def _twin_first(self, ordered: list[Candidate], question: str) -> list[Candidate]:
        """The ranking, with a twin of the top term first when the question's words point to it.

        Twins share most of their name, so they embed close together and meaning alone tells
        them apart poorly ("revenue we keep including upsell" is nearer gross than net revenue
        retention). Unless an alias names the top term, a twin close behind comes first when
        the question lacks the word only the top's name has and has the word only the twin's
        name has, or more of the twin's words (BM25); of several, the one with more. A retired
        twin comes first only when its own word is asked.
        """
        if not ordered or ordered[0].alias > 0:
            return ordered
        top, asked = ordered[0], None
        best: tuple[tuple[bool, float], int] | None = None
        for i, cand in enumerate(ordered[1:], start=1):
            if top.score - cand.score > self.weights.twin_margin:
                break
            apart = self._twins.get((top.doc_id, cand.doc_id))
            if apart is None:
                continue
            if asked is None:
                said = [STEMMER.stemWord(w) for w in words(question)]
                asked = set(said)
            own, other, shared = apart
            named = _names(said, other, shared)
            # A retired term is there for people who still say its name, and only for them.
            retired = self.glossary.terms[cand.doc_id].status == "deprecated"
            if own & asked or (retired and not named):
                continue
            key = (named, cand.lexical)
            if (named or cand.lexical > top.lexical) and (best is None or key > best[0]):
                best = key, i
        if best is None:
            return ordered
        i = best[1]
        return [ordered[i], *ordered[:i], *ordered[i + 1:]]

    def best_section(self, doc_id: str, vector: np.ndarray | None,
                     question: str = "") -> str | None:
        """The body section of a document closest to the question, for quoting; the one whose
        title alone has a word of the question ("negotiation": "Stage 5 Negotiation: ..."),
        when one has."""
        positions = [p for p in self.index.positions(doc_id)
                     if self.index.chunks[p].kind == "section"]
        titled = self._titled(question, [self.index.chunks[p].section or "" for p in positions])
        if titled is not None:
            return titled
        if vector is None or not positions:
            return None
        sims = self.index.vectors(positions) @ vector
        return self.index.chunks[positions[int(np.argmax(sims))]].section

    def answering_section(self, doc_id: str, ranking: Ranking,
                          skip: Collection[str] = ()) -> str | None:
        """The body section that answers the question: close in meaning, then in words (BM25)."""
        positions = [p for p in self.index.positions(doc_id)
                     if self.index.chunks[p].kind == "section"
                     and self.index.chunks[p].section not in skip]
        if ranking.vector is None or not positions:
            return None
        sims = self.index.vectors(positions) @ ranking.vector
        scores = [s + self.weights.lexical * ranking.lexical.get(p, 0.0)
                  for p, s in zip(positions, sims, strict=True)]
        return self.index.chunks[positions[int(np.argmax(scores))]].section

    @staticmethod
    def _titled(question: str, titles: list[str]) -> str | None:
        """The one title naming a word of the question that no other title has."""
        # By stem: "routed" is as much in "Routing MQLs" as in "a routed MQL", so in neither.
        asked = {STEMMER.stemWord(w) for w in words(question) if w not in FRAME_WORDS}
        if not asked or len(titles) < 2:
            return None
        stems = [{STEMMER.stemWord(w) for w in words(title)} for title in titles]
        counts: dict[str, int] = {}
        for title_stems in stems:
            for w in title_stems:
                counts[w] = counts.get(w, 0) + 1
        named = [t for t, title_stems in zip(titles, stems, strict=True)
                 if any(counts[w] == 1 for w in asked & title_stems)]
        return named[0] if len(named) == 1 else None

    def term_titled(self, title: str | None, question: str) -> str | None:
        """The term a guide section is named after ("Match rate: target 95% or higher"), when
        the question has a word of that name, none of the rest of the title, and asks no
        procedure."""
        if not title or ":" not in title or PROCEDURAL.search(question):
            return None
        name, rest = title.split(":", 1)
        doc_id, similarity = self.named(name)
        if doc_id is None or similarity < 1.0:
            return None
        asked = {STEMMER.stemWord(w) for w in words(question) if w not in FRAME_WORDS}
        # "Which system is the source of truth for what" lands on a section by meaning alone;
        # naming none of "Opportunities", it asks about the guide, not about opportunities.
        if not asked & {STEMMER.stemWord(w) for w in words(name)}:
            return None
        if asked & {STEMMER.stemWord(w) for w in words(rest)}:
            return None
        return doc_id

    def says_more(self, ranking: Ranking, doc_id: str) -> bool:
        """Whether the question asks more than what a document is: it has words beyond its names.

        "Who owns the MQL definition" says nothing more than "MQL"; "is a demo request an MQL"
        does.
        """
        return not self.in_names_of(ranking.text, doc_id)

    def in_names_of(self, phrase: str, doc_id: str) -> bool:
        """Whether every word of a phrase, frame words aside, is a word of the document's names."""
        names = self._names.get(doc_id)
        if names is None:
            doc = self.glossary.document(doc_id)
            phrases = term_phrases(doc) if doc else []
            names = frozenset(w for phrase in phrases for w in words(phrase))
            self._names[doc_id] = names
        return all(w in FRAME_WORDS or w in names for w in words(phrase))

    def in_names(self, phrase: str) -> bool:
        """Whether every word of a phrase, frame words aside, is a word of some name or alias."""
        content = [w for w in words(self.speller.correct(phrase)) if w not in FRAME_WORDS]
        return bool(content) and all(w in self._alias_words for w in content)

    def alias_strengths(self, question: str) -> dict[str, float]:
        """For each document an alias names, the share of the question's subject it covers."""
        tokens = words(question)
        content = {i for i, t in enumerate(tokens) if t not in FRAME_WORDS}
        taken: set[int] = set()
        found: dict[str, float] = {}
        for n in range(min(MAX_PHRASE, len(tokens)), 0, -1):
            for start in range(len(tokens) - n + 1):
                span = set(range(start, start + n))
                if span & taken or not span & content:
                    continue
                phrase = " ".join(tokens[start : start + n])
                doc_id, similarity = self._match(phrase)
                if doc_id:
                    if similarity == 1.0:
                        taken |= span
                    coverage = len(span) / len(content | span)
                    floor = self.weights.alias_floor
                    strength = similarity**4 * (floor + (1 - floor) * coverage)
                    found[doc_id] = max(found.get(doc_id, 0.0), strength)
        return found

    def named(self, phrase: str) -> tuple[str | None, float]:
        """The document a phrase names on its own: an alias, exactly, in another form of its
        words ("churned"), or a typo away; or by an alias's first words alone ("counts as
        marketing qualified"), when they are no other document's."""
        alias = subject(self.speller.correct(phrase))
        doc_id = self.glossary.aliases.get(alias) or self._alias_stems.get(_stems(alias))
        if doc_id:
            return doc_id, 1.0
        doc_id, similarity = self._match(alias)
        if doc_id is None and alias in self._alias_heads:
            return self._alias_heads[alias], 1.0
        return doc_id, similarity

    def _match(self, phrase: str) -> tuple[str | None, float]:
        doc_id = self.glossary.aliases.get(phrase)
        if doc_id:
            return doc_id, 1.0
        if len(phrase) < 5:
            return None, 0.0
        low = bisect_left(self._alias_lengths, math.ceil(len(phrase) * FUZZY_MIN - 1e-9))
        high = bisect_right(self._alias_lengths, math.floor(len(phrase) / FUZZY_MIN + 1e-9))
        hit = process.extractOne(phrase, self._alias_keys[low:high],
                                 scorer=OSA.normalized_similarity, score_cutoff=FUZZY_MIN)
        return (self.glossary.aliases[hit[0]], hit[1]) if hit else (None, 0.0)

    def _per_doc(self, hits: list[tuple[int, float]]) -> list[tuple[str, float, int]]:
        best: dict[str, tuple[float, int]] = {}
        for position, score in hits:
            doc_id = self.index.chunks[position].doc_id
            if doc_id not in best or score > best[doc_id][0]:
                best[doc_id] = (score, position)
        ordered = sorted(best.items(), key=lambda item: -item[1][0])
        return [(doc_id, score, position) for doc_id, (score, position) in ordered]

    def _fill_dense(self, cands: Iterable[Candidate], vector: np.ndarray) -> None:
        """Exact similarity for candidates that only an alias or BM25 surfaced."""
        for cand in cands:
            if cand.dense == 0.0:
                positions = self.index.positions(cand.doc_id)
                sims = self.index.vectors(positions) @ vector
                best = int(np.argmax(sims))
                cand.dense, cand.chunk = float(sims[best]), positions[best]

    def _score(self, cand: Candidate, mode: Mode) -> None:
        w = self.weights
        if mode == "bm25":
            cand.score = cand.confidence = cand.lexical
        elif mode == "dense":
            cand.score = cand.confidence = cand.dense
        else:
            cand.score = cand.dense + w.lexical * cand.lexical + w.alias * cand.alias
            cand.confidence = min(1.0, cand.dense + w.alias_confidence * cand.alias)


def _stems(alias: str) -> str:
    return " ".join(STEMMER.stemWord(w) for w in alias.split())


_ACRONYM = re.compile(r"\s*\([^)]*\)")


def _names(said: list[str], word: frozenset[str], shared: frozenset[str]) -> bool:
    """Whether the question uses a twin's own word as part of its name.

    For "Quota Attainment" beside "Quota" (`shared` empty) the word anywhere will do; for
    twins that differ in one word each it must stand next to a word they share ("gross
    retention", "sales qualified"), so "when is a lead ready for sales" does not name the SQL.
    """
    if not shared:
        return bool(word & set(said))
    return any(w in word and ((i > 0 and said[i - 1] in shared)
                              or (i + 1 < len(said) and said[i + 1] in shared))
               for i, w in enumerate(said))


def _twin_words(glossary: Glossary) -> dict[tuple[str, str], tuple[frozenset[str], ...]]:
    """For each ordered pair of terms named alike, the word stems only each one's name has,
    and (for twins that differ in one word each) the ones they share.

    Alike: one name is the other and one word more ("Quota", "Quota Attainment"), or the two
    share two words or more and differ in one each ("Marketing-Influenced Revenue",
    "Marketing-Originated Revenue").
    """
    names = {t.id: frozenset(STEMMER.stemWord(w) for w in words(_ACRONYM.sub("", t.name)))
             for t in glossary.terms.values()}
    found: dict[tuple[str, str], tuple[frozenset[str], ...]] = {}
    for a, x in names.items():
        for b, y in names.items():
            own, other = x - y, y - x
            contained = len(own) + len(other) == 1
            swapped = len(own) == len(other) == 1 and len(x & y) >= 2
            if a != b and x & y and (contained or swapped):
                found[a, b] = (own, other, frozenset() if contained else x & y)
    return found
