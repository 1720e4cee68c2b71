"""Questions about two terms at once: the two phrases they name, and the lines relating them.

"What's the difference between an SAL and an SQL", "mql vs sql", "how is churn different from
NRR", "sal or sql?". Finding which governed term each phrase names is retrieval's job; this
module only reads the question's shape and, once the terms are known, finds what the glossary
itself says about them together: lines naming both, and the guide sections on moving between
their stages ("can an SQL go back to SAL") or named after a stage ("Stage 5 Negotiation").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.glossary import Glossary
from knowledge.loading import split_sections
from knowledge.models import Guide, Section, Term
from knowledge.normalize import words
from knowledge.validation import term_phrases

_SIDE = r"(?P<a>.+?)"
_OTHER = r"(?P<b>.+)"
# Each shape of "how do A and B differ", A first. Loose shapes may name one governed term and
# one thing the glossary lacks; "A or B" is read as two terms only when both are named exactly,
# since "crm or billing?" and "by count or by amount?" ask about something else.
_LOOSE = [re.compile(p, re.IGNORECASE) for p in (
    rf"\b(?:difference|differences|diff|distinction)\s+between\s+{_SIDE}\s+"
    rf"(?:and|vs\.?|versus|or|&)\s+{_OTHER}",
    rf"\bhow\s+(?:is|are|does|do)\s+{_SIDE}\s+(?:any\s+)?(?:different|differ|differs|distinct)"
    rf"\s+(?:from|than|to|with)\s+{_OTHER}",
    rf"\bwhat\s+(?:differentiates|distinguishes|separates|sets)\s+{_SIDE}\s+(?:apart\s+)?"
    rf"from\s+{_OTHER}",
    rf"^(?:is|are)\s+{_SIDE}\s+(?:the\s+same(?:\s+thing)?\s+as|(?:any\s+)?different\s+"
    rf"(?:from|than|to))\s+{_OTHER}",
    rf"^(?:is|are)\s+{_SIDE}\s+and\s+{_OTHER}\s+(?:the\s+same|different|interchangeable)\b",
    rf"\bcompare\s+{_SIDE}\s+(?:and|with|to|vs\.?|versus)\s+{_OTHER}",
    rf"^{_SIDE}\s+and\s+(?P<b>.+?)\s*[,:;-]+\s*(?:what'?s|whats|what\s+is)\s+the\s+"
    r"(?:difference|diff)\b",
    rf"^{_SIDE}\s+(?:vs\.?|versus)\s+{_OTHER}",
)]
_EITHER = re.compile(rf"^{_SIDE}\s+or\s+{_OTHER}", re.IGNORECASE)
# Where one side's words end: punctuation, or the question going on about the two.
_STOP = re.compile(
    r"\s*(?:[?!,;()]|:(?=\s|$)|\s[-–—]\s|\.(?:\s|$))|\s+(?:what|whats|what's|how|which|when"
    r"|why|is it|are they|aren't|arent|same thing|the same|difference|diff|exactly|again"
    r"|anyway)\b",
    re.IGNORECASE,
)
# A question asking for numbers ("how many MQLs vs SQLs last quarter") is a metric question.
_NUMBERS = re.compile(r"\bhow\s+(?:many|much)\b|\b(?:last|this|next)\s+(?:week|month|quarter|"
                      r"year)\b|\bq[1-4]\b", re.IGNORECASE)


@dataclass(frozen=True)
class TwoPhrases:
    """The two phrases a question compares; `strict`: both must name a term exactly."""

    a: str
    b: str
    strict: bool = False


def two_phrases(question: str) -> TwoPhrases | None:
    """The two things a "difference between A and B" question names, or None."""
    if _NUMBERS.search(question):
        return None
    text = question.strip()
    for pattern in _LOOSE:
        found = pattern.search(text)
        if found:
            a, b = _left_side(found.group("a")), _right_side(found.group("b"))
            return TwoPhrases(a, b) if a and b else None
    found = _EITHER.search(text)
    if found:
        a, b = found.group("a").strip(), _right_side(found.group("b"))
        return TwoPhrases(a, b, strict=True) if a and b else None
    return None


def shown(phrase: str) -> str:
    """A side as the reply quotes it: "an SAL" is "SAL"; a pronoun names nothing ("")."""
    text = re.sub(r"^(?:an?|the|our)\s+", "", phrase.strip(), flags=re.IGNORECASE)
    return "" if text.lower() in _PRONOUNS else text


_PRONOUNS = frozenset("it this that they them these those one ones either".split())


def completions(phrase: str, other: str) -> list[str]:
    """`phrase` with the other side's last words: "first-touch vs last-touch attribution"."""
    tail = other.split()
    return [f"{phrase} {' '.join(tail[-n:])}" for n in (1, 2) if len(tail) > n]


def _left_side(text: str) -> str:
    # "so, mql vs sql" and "quick one - mql vs sql": the side starts after the last break.
    parts = re.split(r"[?!,;()]|:(?=\s|$)|\s[-–—]\s", text)
    return parts[-1].strip()


def _right_side(text: str) -> str:
    stop = _STOP.search(text)
    return (text[: stop.start()] if stop else text).strip()


@dataclass(frozen=True)
class Line:
    """A governed line relating two terms: its text, document, section and guide line."""

    text: str
    doc_id: str
    section: str | None
    line: int | None = None


MAX_LINES = 4
# A term's own sections whose lines can relate it to another, most telling first. An Example's
# sentences are figures that need the rest of the example to make sense.
_SECTION_ORDER = ("Criteria", "Common mistakes", "Formula")


def relating_lines(a: Term, b: Term, glossary: Glossary) -> list[Line]:
    """What the glossary says about the two together, verbatim.

    First a guide section whose title names both (the lifecycle guide's "MQL to SAL
    transition"), then lines of each term's own sections that name the other term.
    """
    found = [Line(s.text, g.id, s.title, s.line) for g in glossary.guides.values()
             for s in g.sections if _names(a, s.title) and _names(b, s.title)]
    lines = _lines_naming(a, b) + _lines_naming(b, a)
    lines.sort(key=lambda x: _SECTION_ORDER.index(x.section))
    seen = {x.text for x in found}
    for line in lines:
        if line.text not in seen:
            seen.add(line.text)
            found.append(line)
    return found[:MAX_LINES]


def governing_guide(a: Term, b: Term, glossary: Glossary) -> tuple[Guide, Section | None] | None:
    """The guide that rules moves between two terms' stages, with its section naming both.

    "Can an SQL go back to SAL": the lifecycle guide, at "SAL to SQL transition". A guide with
    sections naming each, but none naming both, is returned without a section.
    """
    for guide in glossary.guides.values():
        for section in guide.sections:
            if _names(a, section.title) and _names(b, section.title):
                return guide, section
    for guide in glossary.guides.values():
        if (any(_names(a, s.title) for s in guide.sections)
                and any(_names(b, s.title) for s in guide.sections)):
            return guide, None
    return None


def titled_section(stage: str, glossary: Glossary) -> tuple[Guide, Section] | None:
    """The guide section named after a stage: "negotiation" is "Stage 5 Negotiation: ...",
    "customer" is "Opportunity to Customer transition" (the shortest title, when several)."""
    wanted = set(words(stage))
    found = [(len(s.title), g.id, g, s) for g in glossary.guides.values() for s in g.sections
             if wanted and wanted <= set(words(s.title))]
    return min(found, key=lambda x: x[:2])[2:] if found else None


def _lines_naming(term: Term, other: Term) -> list[Line]:
    """The bullet points (or, in prose, sentences) of `term`'s sections that name `other`."""
    found = []
    for section in split_sections(term.body, 1):
        if section.title not in _SECTION_ORDER:
            continue
        for line in section.text.splitlines():
            line = line.strip()
            parts = [line] if line.startswith(("- ", "* ")) else _sentences(line)
            found += [Line(p, term.id, section.title) for p in parts if _names(other, p)]
    return found


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text) if s]


def _names(term: Term, text: str) -> bool:
    return bool(_mention(tuple(term_phrases(term)), term.metric).search(text))


@lru_cache(maxsize=512)
def _mention(phrases: tuple[str, ...], metric: str | None) -> re.Pattern[str]:
    """Any phrase that names the term, as a word, or the metric that computes it: "Dividing
    `sql_count` by `mql_count`" names MQL; mql_at does not."""
    phrases = sorted({p.strip() for p in phrases if len(p.strip()) > 2}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in phrases)
    computed = rf"|(?<!\w){re.escape(metric)}(?!\w)" if metric else ""
    return re.compile(rf"(?<![\w`])(?:{alternatives})s?(?![\w`]){computed}", re.IGNORECASE)
