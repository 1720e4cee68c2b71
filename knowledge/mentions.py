"""Which governed terms a piece of chat text mentions, and whether it asks what one means."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.glossary import Glossary
from knowledge.models import Term

# "what's the definition of SAL?", "what do we mean by pipeline?", "define ARR", "what is an MQL"
_DEFINITIONAL = re.compile(
    r"\b(?:what(?:'s|’s| is| are| does| do)\b.{0,60}\b(?:mean|definition|stand for)"
    r"|what do (?:we|you|they) mean by|what (?:is|are)(?: meant by)?|what(?:'s|’s)"
    r"|definition of|meaning of|define)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    """A term named in the text: the words as written and where they start."""

    term_id: str
    text: str
    start: int


def find_mentions(text: str, glossary: Glossary) -> list[Mention]:
    """Each term the text names by id, name or alias, once, in order of first appearance.

    Whole words only. An alias written in capitals ("SQL", "MQLs", "ARR") matches only in
    capitals, so "run this sql" is not about Sales Qualified Leads; other aliases match in
    any case. Longer aliases win over the shorter ones inside them ("sales qualified lead"
    over "lead").
    """
    taken: list[tuple[int, int]] = []
    found: dict[str, Mention] = {}
    for pattern, term_id in _patterns(glossary):
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            if term_id not in found or found[term_id].start > span[0]:
                found[term_id] = Mention(term_id, match.group(0), span[0])
    return sorted(found.values(), key=lambda m: m.start)


def looks_definitional(text: str) -> bool:
    """Whether a message asks what something means (the only kind auto-answered)."""
    if text.lower().startswith("define "):
        return True
    return "?" in text and bool(_DEFINITIONAL.search(text))


def _patterns(glossary: Glossary) -> list[tuple[re.Pattern[str], str]]:
    # Keyed by identity: a reload builds a new Glossary, and the old entry ages out.
    cached = _CACHE.get(id(glossary))
    if cached is None or cached[0] is not glossary:
        cached = (glossary, _compile(glossary.terms.values()))
        _CACHE[id(glossary)] = cached
        while len(_CACHE) > 4:
            _CACHE.pop(next(iter(_CACHE)))
    return cached[1]


_CACHE: dict[int, tuple[Glossary, list[tuple[re.Pattern[str], str]]]] = {}


def _compile(terms: Iterable[Term]) -> list[tuple[re.Pattern[str], str]]:
    phrases: dict[str, str] = {}
    for term in terms:
        for phrase in (term.name, *term.aliases):
            phrases.setdefault(phrase.strip(), term.id)
    compiled = []
    for phrase, term_id in sorted(phrases.items(), key=lambda p: -len(p[0])):
        words = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", phrase) if w)
        flags = 0 if _is_acronym(phrase) else re.IGNORECASE
        compiled.append((re.compile(rf"(?<![\w-]){words}(?![\w-])", flags), term_id))
    return compiled


def _is_acronym(phrase: str) -> bool:
    """ "SQL", "MQLs", "LTV:CAC" are acronyms; "Closed Won" and "pipeline" are not."""
    core = phrase[:-1] if len(phrase) > 2 and phrase.endswith("s") else phrase
    letters = [c for c in core if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and " " not in core
