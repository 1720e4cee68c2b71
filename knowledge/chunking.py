"""Cut terms and guides into the passages that retrieval scores."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from knowledge.glossary import Glossary
from knowledge.loading import split_sections
from knowledge.models import Guide, Term


@dataclass(frozen=True)
class Chunk:
    """One searchable passage: a headline, a body section, or a question the document answers."""

    doc_id: str
    section: str | None
    text: str
    path: str
    kind: Literal["head", "section", "question"] = "section"

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
    chunks = [Chunk(term.id, None, head, term.path, "head")]
    for section in split_sections(term.body, 1):
        text = f"{term.name}: {section.title}. {section.text}"
        chunks.append(Chunk(term.id, section.title, text, term.path))
    return chunks + question_chunks(term)


def guide_chunks(guide: Guide) -> list[Chunk]:
    chunks = [Chunk(guide.id, None, f"{guide.title}. {guide.summary}", guide.path, "head")]
    for section in guide.sections:
        text = f"{guide.title}: {section.title}. {section.text}"
        chunks.append(Chunk(guide.id, section.title, text, guide.path))
    return chunks + question_chunks(guide)


def question_chunks(doc: Term | Guide) -> list[Chunk]:
    """Each governed example question is matched on its own, like a paraphrase of the title."""
    return [Chunk(doc.id, None, q, doc.path, "question") for q in doc.questions]
