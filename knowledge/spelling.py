"""Correct a mistyped word in a question to the glossary word it was meant to be."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

_WORD = re.compile(r"[A-Za-z]+")
SHORTEST = 4  # in three letters one edit reaches another abbreviation: MRR, ARR, MQL, SQL


class Speller:
    """Rewrites words the glossary has never seen to a close word its aliases use.

    Only words no chunk uses are touched, so a word the glossary knows is never "corrected"
    into a term, and only within one edit (two for long words): the distance of a typo, not of
    another word.
    """

    def __init__(self, alias_words: Iterable[str], known: Callable[[str], bool]) -> None:
        self._targets = sorted({w for w in alias_words if len(w) >= SHORTEST and w.isalpha()})
        self._known = known

    def correct(self, question: str) -> str:
        """The question with each unknown word replaced by its closest alias word, if any."""
        return _WORD.sub(lambda m: self._word(m.group()), question)

    def _word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < SHORTEST or self._known(lower):
            return word
        if len(lower) == SHORTEST:  # four letters: only two neighbours swapped ("laed")
            swaps = {lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :] for i in range(3)}
            found = sorted(swaps.intersection(self._targets))
            return found[0] if found else word
        limit = 2 if len(lower) >= 9 else 1
        hit = process.extractOne(lower, self._targets, scorer=OSA.distance, score_cutoff=limit)
        return hit[0] if hit else word
