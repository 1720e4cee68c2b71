"""A validated, immutable set of terms and guides, and the store that swaps it safely."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.errors import ContentError
from knowledge.issues import Issue
from knowledge.loading import FileMemo, load_directory
from knowledge.models import Guide, Term
from knowledge.normalize import key
from knowledge.validation import cross_check, term_phrases


@dataclass(frozen=True)
class Glossary:
    """Terms and guides that passed validation, with an alias table for exact lookups."""

    root: Path
    terms: dict[str, Term]
    guides: dict[str, Guide]
    aliases: dict[str, str] = field(repr=False)

    @classmethod
    def from_documents(cls, root: Path, terms: Iterable[Term], guides: Iterable[Guide]) -> Glossary:
        terms, guides = {t.id: t for t in terms}, {g.id: g for g in guides}
        aliases = {key(p): d.id for d in [*terms.values(), *guides.values()]
                   for p in term_phrases(d)}
        return cls(root=root, terms=terms, guides=guides, aliases=aliases)

    def document(self, doc_id: str) -> Term | Guide | None:
        return self.terms.get(doc_id) or self.guides.get(doc_id)

    def lookup(self, phrase: str) -> Term | Guide | None:
        """The term or guide an id, name or alias names."""
        doc_id = self.aliases.get(key(phrase))
        return self.document(doc_id) if doc_id else None

    def __len__(self) -> int:
        return len(self.terms) + len(self.guides)


def check_directory(root: Path, metric_ids: Iterable[str] | None = None,
                    memo: FileMemo | None = None) -> tuple:
    """Load and validate `root`; returns (Glossary or None, every issue found)."""
    loaded = load_directory(root, memo=memo)
    issues = loaded.issues + cross_check(loaded, metric_ids)
    if issues:
        return None, sorted(issues, key=lambda i: (i.path, i.line, i.field))
    return Glossary.from_documents(root, loaded.terms, loaded.guides), []


def load_glossary(root: Path, metric_ids: Iterable[str] | None = None,
                  memo: FileMemo | None = None) -> Glossary:
    """Load a glossary that must be valid; raises ContentError listing every issue."""
    glossary, issues = check_directory(root, metric_ids, memo)
    if glossary is None:
        raise ContentError(issues)
    return glossary


@dataclass
class Reload:
    """What a reload did: whether the new set was taken, and why not."""

    accepted: bool
    issues: list[Issue]
    # False when the files say exactly what is already served (nothing was swapped).
    changed: bool = True
