"""Cut terms and guides into the passages that retrieval scores."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from knowledge.glossary import Glossary
from knowledge.loading import split_sections
from knowledge.models import Guide, Term


@dataclass(frozen=True)
class Chunk:
    """One searchable passage; `section` is None for a document's headline chunk."""

    doc_id: str
    section: str | None
    text: str
    path: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def chunk_glossary(glossary: Glossary) -> list[Chunk]:
    """Headline chunk and one chunk per body section, for every term and guide."""
    chunks: list[Chunk] = []
    for term in glossary.terms.values():
        chunks.extend(term_chunks(term))
    for guide in glossary.guides.values():
        chunks.extend(guide_chunks(guide))
    return chunks


def term_chunks(term: Term) -> list[Chunk]:
    aliases = ", ".join(term.aliases)
    head = f"{term.name}. Also called: {aliases}. {term.definition}"
    chunks = [Chunk(term.id, None, head, term.path)]
    for section in split_sections(term.body, 1):
        text = f"{term.name}: {section.title}. {section.text}"
        chunks.append(Chunk(term.id, section.title, text, term.path))
    return chunks


def guide_chunks(guide: Guide) -> list[Chunk]:
    chunks = [Chunk(guide.id, None, f"{guide.title}. {guide.summary}", guide.path)]
    for section in guide.sections:
        text = f"{guide.title}: {section.title}. {section.text}"
        chunks.append(Chunk(guide.id, section.title, text, guide.path))
    return chunks
