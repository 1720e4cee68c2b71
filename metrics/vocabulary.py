"""The words that name metrics, taken from the governed files: each metric's id and name, its
glossary term's name and aliases, and a retired term's, which name its replacement's metric."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metrics.catalog import Catalog
from metrics.question_words import stem
from metrics.questions import Phrases
from metrics.value_words import spoken


@dataclass(frozen=True)
class Vocabulary:
    """How questions name metrics."""

    phrases: Phrases
    retired: Phrases  # a retired term's names -> the term's id
    notices: Mapping[str, tuple[str, str]]  # retired term id -> (its metric, the notice)

    def notice(self, question: str, metric: str) -> str | None:
        """Why a question that names a retired term got its replacement's metric."""
        term, _ = self.retired.find(question)
        found = self.notices.get(term or "")
        return found[1] if found and found[0] == metric else None


def build_vocabulary(terms: Mapping[str, object], catalog: Catalog) -> Vocabulary:
    """The vocabulary of the glossary and catalogue being served."""
    phrases: dict[str, str] = {}
    for metric in catalog:
        term = terms.get(metric.glossary)
        names = [metric.id, metric.id.replace("_", " "), metric.name]
        if term is not None:
            names += [term.name, *term.aliases]
        for name in names:
            phrases.setdefault(name.lower(), metric.id)
    retired: dict[str, str] = {}
    notices: dict[str, tuple[str, str]] = {}
    for term in terms.values():
        replacement = terms.get(getattr(term, "replaced_by", None) or "")
        metric = getattr(replacement, "metric", None)
        if getattr(term, "status", "") != "deprecated" or metric not in catalog:
            continue
        for name in (term.id.replace("_", " "), term.name, *term.aliases):
            phrases.setdefault(name.lower(), metric)
            retired.setdefault(name.lower(), term.id)
        notices[term.id] = (metric, f"'{term.name}' is a retired term; this is "
                                    f"{replacement.name}, which replaced it.")
    same = same_words(terms.values())
    return Vocabulary(Phrases(phrases, same), Phrases(retired, same), notices)


def same_words(terms: Iterable[object]) -> dict[str, str]:
    """Single words the glossary says mean the same ("opp", "deal", "opportunity"), each mapped
    to one of them, so a metric named with one is found when a question says another."""
    same: dict[str, str] = {}
    for term in terms:
        words = set()
        for name in (term.id.replace("_", " "), term.name, *term.aliases):
            parts = spoken(name).split()
            if len(parts) == 1:
                words.add(stem(parts[0]))
        if len(words) < 2:
            continue
        first = min(words)
        for word in sorted(words):
            same.setdefault(word, same.get(first, first))
    return same
